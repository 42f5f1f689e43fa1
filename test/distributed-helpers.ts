import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { Queue } from 'bullmq'
import { queueRedis, type RangeJob, type RangeProgress } from '../src/distributed/job.js'

const repo = resolve(import.meta.dirname, '..')

/** A `ferry worker` child process and what it printed. */
export interface WorkerChild {
  readonly name: string
  readonly child: ChildProcess
  output(): string
  /** Stops it (SIGTERM, SIGCONT first in case it is stopped) and waits for it to exit. */
  end(): Promise<void>
}

/** Starts `npm run worker` as a child, with the pipeline's environment. */
export function startWorker(name: string, queue: string, queueName: string, env: Record<string, string>, lockMs = 2000): WorkerChild {
  const args = ['--import', import.meta.resolve('tsx'), join(repo, 'src', 'cli', 'worker.ts'), '--queue', queue, '--queue-name', queueName, '--lock-duration', String(lockMs), '--name', name]
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, cwd: env.WORK_DIR ?? repo })
  let text = ''
  child.stdout.on('data', (d: Buffer) => (text += d.toString()))
  child.stderr.on('data', (d: Buffer) => (text += d.toString()))
  const exited = once(child, 'exit')
  return {
    name,
    child,
    output: () => text,
    end: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGCONT')
        child.kill('SIGTERM')
      }
      await exited
    },
  }
}

/**
 * Whether the worker prints `pattern` within `timeoutMs`: a woken worker learns what happened
 * while it was stopped at its next step, which may come after the run it was part of has ended.
 */
export async function printsWithin(worker: WorkerChild, pattern: RegExp, timeoutMs = 20_000): Promise<boolean> {
  for (const started = Date.now(); Date.now() - started < timeoutMs; await sleep(100)) {
    if (pattern.test(worker.output())) return true
  }
  return pattern.test(worker.output())
}

/** A range a worker holds, with at least one committed batch stored in its job. */
export interface HeldRange {
  readonly index: number
  readonly rows: number
}

/**
 * Waits until `worker` holds a range whose job stores a position past its start but at most
 * `maxRows` into it (a range well in the middle of its work), polling every few milliseconds.
 */
export async function rangeInProgress(queue: string, queueName: string, worker: string, maxRows = Infinity, timeoutMs = 60_000): Promise<HeldRange> {
  const connection = queueRedis(queue)
  const q = new Queue<RangeJob>(queueName, { connection })
  try {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(10)) {
      for (const job of await q.getJobs(['active'])) {
        const p = job?.progress as RangeProgress | number | undefined
        if (typeof p !== 'object' || p.worker !== worker) continue
        const open = p.checkpoint.open[0]
        const rows = p.checkpoint.counts.migrated
        if (open?.position !== undefined && rows > 0 && rows <= maxRows) return { index: job.data.index, rows }
      }
    }
    throw new Error(`${worker} held no range in progress within ${timeoutMs} ms`)
  } finally {
    await q.close()
    connection.disconnect()
  }
}

/** How many jobs the queue holds, in any state, or in the states named. */
export async function jobCount(queue: string, queueName: string, ...states: ('failed' | 'active' | 'waiting' | 'completed')[]): Promise<number> {
  const connection = queueRedis(queue)
  const q = new Queue(queueName, { connection })
  try {
    const counts = await q.getJobCounts(...states)
    return Object.values(counts).reduce((n, c) => n + c, 0)
  } finally {
    await q.close()
    connection.disconnect()
  }
}

/** Whether any key of the queue holds `text` in any of its fields or values. */
export async function queueHolds(queue: string, queueName: string, text: string): Promise<boolean> {
  const redis = queueRedis(queue)
  try {
    for (const key of await redis.keys(`bull:${queueName}:*`)) {
      const type = await redis.type(key)
      const value = type === 'hash' ? JSON.stringify(await redis.hgetall(key)) : type === 'string' ? await redis.get(key) : ''
      if (value?.includes(text)) return true
    }
    return false
  } finally {
    redis.disconnect()
  }
}

/** Removes every key of a test's queue (jobs, events, meta). */
export async function dropQueue(queue: string, queueName: string): Promise<void> {
  const connection = queueRedis(queue)
  const q = new Queue(queueName, { connection })
  try {
    await q.obliterate({ force: true })
  } finally {
    await q.close()
    connection.disconnect()
  }
}

/** Removes range `index`'s job, whatever its state, as an operator would by hand; waits out a dead worker's lock. */
export async function removeRangeJob(queue: string, queueName: string, index: number, timeoutMs = 30_000): Promise<void> {
  const connection = queueRedis(queue)
  const q = new Queue<RangeJob>(queueName, { connection })
  try {
    const jobs = await q.getJobs(['active', 'waiting', 'failed', 'delayed', 'completed'])
    const job = jobs.find((j) => j?.data.index === index)
    if (!job) throw new Error(`range ${index} has no job on ${queueName}`)
    // A locked job cannot be removed: the killed worker's lock expires first.
    for (const deadline = Date.now() + timeoutMs; (await q.remove(job.id!)) !== 1; await sleep(200)) {
      if (Date.now() > deadline) throw new Error(`range ${index}'s job stayed locked for ${timeoutMs} ms`)
    }
  } finally {
    await q.close()
    connection.disconnect()
  }
}
