import { setTimeout as sleep } from 'node:timers/promises'
import { type Job, Queue } from 'bullmq'
import { ConfigError } from '../errors.js'
import type { Logger } from '../log.js'
import type { RunContext } from '../pipeline.js'
import { redactUrl } from '../redact.js'
import type { Counts } from '../stats.js'
import { type DistributedSummary, jobOptions, type PipelineOrigin, queueRedis, rangeJobId, type RangeJob, type RangeProgress, type RangeResult } from './job.js'

/** Milliseconds between two looks at the ranges' jobs. */
const pollMs = 300

/**
 * The distributed strategy's planner side: puts the checkpoint's unfinished ranges on the queue
 * (one job each, with ids a second planning finds taken), then follows them until every one is
 * done, keeping the statistics (and so the progress line) and the checkpoint up to date. The
 * table's validation and report then run here, once. A failed range fails the run.
 */
export async function runOnWorkers(ctx: RunContext, env: { logger: Logger; origin?: PipelineOrigin | undefined }): Promise<DistributedSummary> {
  const s = ctx.settings
  if (!env.origin) throw new ConfigError('the distributed strategy runs pipeline files (`npm run pipeline <name> -- --strategy distributed`): its workers load the pipeline by name')
  const cp = ctx.checkpoint
  const connection = queueRedis(s.queue!)
  const queue = new Queue<RangeJob, RangeResult>(s.queueName, { connection })
  try {
    const open = cp.partitions.flatMap((_, i) => (cp.isDone(i) ? [] : [i]))
    const gone = s.resume ? await reviveJobs(queue, cp.runId, open, env.logger) : new Set<number>()
    const data = (index: number): RangeJob => ({
      ...env.origin!,
      name: s.name,
      table: s.targetTable,
      runId: cp.runId,
      settingsHash: cp.settingsHash,
      index,
      partition: cp.partitions[index]!,
      ...(gone.has(index) && { replayWhole: true }),
    })
    await queue.addBulk(open.map((i) => ({ name: `${s.name}.${i}`, data: data(i), opts: { jobId: rangeJobId(cp.runId, i), ...jobOptions(s.retryDelay) } })))
    env.logger.info(`${open.length} range(s) of \`${s.targetTable}\` on queue \`${s.queueName}\` at ${redactUrl(s.queue!)}; workers take them: npm run worker -- --queue ${redactUrl(s.queue!)} --queue-name ${s.queueName}`)
    const follow = new Follow(ctx, env.logger)
    for (let pending = open; pending.length; ) {
      ctx.stop.throwIfAborted()
      pending = await follow.look(queue, pending)
      if (pending.length) await sleep(pollMs)
    }
    env.logger.info(`rows per worker: ${Object.entries(follow.workers).map(([w, n]) => `${w} ${n}`).join(', ')}`)
    await Promise.all(cp.partitions.map((_, i) => queue.remove(rangeJobId(cp.runId, i))))
    return { queue: s.queue!, queueName: s.queueName, ranges: cp.partitions.length, workers: follow.workers, resumed: follow.resumed }
  } finally {
    await queue.close()
    // BullMQ leaves a connection it was handed open.
    connection.disconnect()
  }
}

/**
 * On a resumed run, before the ranges are added again: a failed range's job is retried (it keeps
 * its stored position, so it goes on from there); returns the ranges whose job is gone, whose
 * positions went with it.
 */
async function reviveJobs(queue: Queue<RangeJob, RangeResult>, runId: string, open: readonly number[], logger: Logger): Promise<Set<number>> {
  const gone = new Set<number>()
  for (const index of open) {
    const job = await queue.getJob(rangeJobId(runId, index))
    if (!job) {
      gone.add(index)
      logger.warn(`range ${index} has no job on queue \`${queue.name}\` (never added, or removed): it is added again and written from its start as upserts`)
    } else if ((await job.getState()) === 'failed') {
      logger.info(`range ${index} failed before (${job.failedReason}): retried from its stored position`)
      await job.retry('failed')
    }
  }
  return gone
}

/** What the planner has learnt of the ranges: the finished ones' counts, rows per worker, takeovers. */
class Follow {
  readonly workers: Record<string, number> = {}
  readonly resumed: DistributedSummary['resumed'][number][] = []
  readonly #base: Counts

  constructor(
    readonly ctx: RunContext,
    readonly logger: Logger,
  ) {
    const st = ctx.stats
    this.#base = { migrated: st.migrated, failed: st.failed, skipped: st.skipped, filtered: st.filtered }
  }

  /** Looks at the pending ranges' jobs once; returns those still pending. */
  async look(queue: Queue<RangeJob, RangeResult>, pending: readonly number[]): Promise<number[]> {
    const cp = this.ctx.checkpoint
    const jobs = await Promise.all(pending.map((i) => queue.getJob(rangeJobId(cp.runId, i))))
    const active: Counts[] = []
    const left: number[] = []
    for (const [n, job] of jobs.entries()) {
      const index = pending[n]!
      if (!job) throw new Error(`range ${index}'s job is gone from queue \`${queue.name}\` (removed by hand?); continue with --resume, which puts it back to be written again from its start as upserts`)
      if (job.finishedOn && job.returnvalue) await this.#finished(index, job)
      else if (job.finishedOn && (await job.getState()) === 'failed') throw new Error(`range ${index} of \`${this.ctx.settings.targetTable}\` failed on ${job.processedBy ?? progressOf(job)?.worker ?? 'a worker'}: ${job.failedReason}`)
      else {
        left.push(index)
        const counts = progressOf(job)?.checkpoint.counts
        if (counts) active.push(counts)
      }
    }
    this.#show(active)
    return left
  }

  async #finished(index: number, job: Job<RangeJob, RangeResult>): Promise<void> {
    const r = job.returnvalue
    const base = this.#base
    base.migrated += r.counts.migrated
    base.failed += r.counts.failed
    base.skipped += r.counts.skipped
    base.filtered += r.counts.filtered
    const earlier = r.resumed?.rows ?? 0
    this.#add(r.worker, r.counts.migrated - earlier)
    if (r.resumed) {
      this.#add(r.resumed.by, earlier)
      this.resumed.push({ range: index, worker: r.worker, ...r.resumed })
    }
    const rows = r.counts.migrated + r.counts.failed + r.counts.skipped
    this.ctx.checkpoint.committed(index, null, rows, r.counts)
    await this.ctx.checkpoint.complete(index)
    const how = r.resumed ? `, resumed at ${r.resumed.rows} rows from ${r.resumed.by}'s position ${JSON.stringify(r.resumed.position)}` : ''
    this.logger.info(`range ${index} done by ${r.worker}: ${rows} rows${how}; ${this.ctx.checkpoint.doneCount}/${this.ctx.checkpoint.partitions.length} ranges done`)
  }

  #add(worker: string, rows: number): void {
    this.workers[worker] = (this.workers[worker] ?? 0) + rows
    this.ctx.stats.workers[Object.keys(this.workers).indexOf(worker)] = this.workers[worker]
  }

  /** The statistics (which the progress line reads): finished ranges plus the active ones so far. */
  #show(active: readonly Counts[]): void {
    const st = this.ctx.stats
    const sum = (k: keyof Counts) => this.#base[k] + active.reduce((n, c) => n + c[k], 0)
    st.migrated = sum('migrated')
    st.failed = sum('failed')
    st.skipped = sum('skipped')
    st.filtered = sum('filtered')
  }
}

const progressOf = (job: Job): RangeProgress | undefined => (typeof job.progress === 'object' && job.progress !== null ? (job.progress as unknown as RangeProgress) : undefined)
