import { readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'

/** Whether a process with this pid runs on this machine (one of another user's counts). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Removes the files of `dir` that processes killed before they removed them left behind:
 * `pattern` matches such a file's whole name and captures its process's pid in a group.
 */
export async function removeDeadProcessFiles(dir: string, pattern: RegExp): Promise<void> {
  for (const name of await readdir(dir).catch(() => [])) {
    const pid = Number(pattern.exec(name)?.slice(1).find(Boolean))
    if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) await rm(join(dir, name), { force: true })
  }
}

/** `text` as a regular expression matching it literally. */
export function literally(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
