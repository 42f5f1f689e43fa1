import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { openSync, closeSync, readFileSync, rmSync } from 'node:fs'

/** One timed run: wall seconds and the peak resident set, as GNU time reports them. */
export interface Measurement {
  readonly seconds: number
  /** Peak RSS in MB of the largest process of the command (for a pipe: its largest member). */
  readonly rssMb: number
  /** CPU seconds (user + system) of the command's own processes, servers not included. */
  readonly cpuSeconds: number
}

/**
 * Runs `script` with bash under GNU `/usr/bin/time -f '%e %M %U %S'`, so ferry and the reference tools
 * are measured the same way. `%M` is the maxrss of the command and of the children it waited for:
 * for a shell pipe that is its largest member, not the sum; servers are never counted. The
 * command's output goes to `logFile`.
 */
export async function measure(
  script: string,
  logFile: string,
  env: Record<string, string> = {},
): Promise<Measurement> {
  const timeFile = `${logFile}.time`
  rmSync(timeFile, { force: true })
  const fd = openSync(logFile, 'w')
  try {
    const child = spawn(
      '/usr/bin/time',
      ['-f', '%e %M %U %S', '-o', timeFile, 'bash', '-o', 'pipefail', '-c', script],
      { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } },
    )
    const [code] = (await once(child, 'close')) as [number | null]
    if (code !== 0) {
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n')
      throw new Error(`exited ${code}; last lines of ${logFile}:\n${tail}`)
    }
  } finally {
    closeSync(fd)
  }
  const [seconds, kb, user, sys] = readFileSync(timeFile, 'utf8').trim().split('\n').pop()!.split(' ').map(Number)
  return { seconds: seconds!, rssMb: kb! / 1024, cpuSeconds: user! + sys! }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
