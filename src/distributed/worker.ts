import { join } from 'node:path'
import { type Job, UnrecoverableError, WaitingError, Worker } from 'bullmq'
import { Checkpoint, type CheckpointState, parseState } from '../checkpoint.js'
import { planText } from '../checkpoint-file.js'
import type { ResolvedSettings } from '../config.js'
import type { Pipeline } from '../define.js'
import { openConnections } from '../engines/registry.js'
import { CheckpointError, ConfigError, messageOf, MissingTableError, RowRejectedError, SinkWriteError } from '../errors.js'
import { inspect } from '../inspect.js'
import { InterruptedError } from '../interrupt.js'
import type { Keys } from '../key-check.js'
import { sameSet } from '../keys.js'
import { type Logger, stamp } from '../log.js'
import { decodedBecause } from '../passthrough.js'
import { runPartition } from '../pipeline.js'
import { RejectedRows } from '../rejected.js'
import { RejectedLimitError, TableRejects } from '../rejects.js'
import { resolvePipeline } from '../resolve.js'
import { Scrubber } from '../scrub.js'
import type { WriteTarget } from '../sink.js'
import { Stats } from '../stats.js'
import { checkpointHash, existingTarget, readFailed, writeEvents, writeTarget } from '../table-context.js'
import { jobStore } from './job-store.js'
import { lockSettings, queueRedis, type RangeJob, type RangeProgress, type RangeResult } from './job.js'

export interface WorkerSettings {
  /** The queue's Redis URL and name, as the planner's `queue` and `queueName`. */
  readonly queue: string
  readonly queueName: string
  /** Ranges this process works at once, each on connections of its own. */
  readonly concurrency: number
  /** Milliseconds without a lock renewal after which this worker's ranges go to others. */
  readonly lockDuration: number
  /** How this worker is named in jobs, logs and reports (default `host:pid`). */
  readonly name: string
  /** Loads a pipeline file as the command line names it (`pipelines/<name>.ts`, or a path). */
  readonly load: (pipeline: string) => Promise<{ name: string; pipeline: Pipeline }>
  readonly logger: Logger
  /** Aborted to stop: ranges being worked stop at a batch boundary and go back to the queue. */
  readonly stop: AbortSignal
}

/** A table as a worker writes it: learnt once per run, then shared by its ranges. */
interface TableSetup {
  readonly settings: ResolvedSettings
  readonly keys: Keys
  readonly target: WriteTarget
  readonly upsertable: boolean
  /** The raw passthrough applies (as the planner's run-table decides it, `decodedBecause`). */
  readonly raw: boolean
  readonly hash: string
  readonly rejected: RejectedRows
  /** The loaded pipeline's secrets, scrubbed from what the worker logs and hands to BullMQ. */
  readonly scrubber: Scrubber
}

/**
 * `ferry worker`: takes range jobs from the queue until `stop` is aborted, and runs each through
 * the one pipeline (`runPartition`) on connections of its own, its checkpoint stored in the job.
 */
export async function runWorker(w: WorkerSettings): Promise<void> {
  const tables = new Map<string, Promise<TableSetup>>()
  const store = queueRedis(w.queue)
  const connection = queueRedis(w.queue)
  const worker = new Worker<RangeJob, RangeResult>(
    w.queueName,
    async (job, token, signal) => {
      const key = `${job.data.runId}\0${job.data.table}`
      if (!tables.has(key)) tables.set(key, setUp(job.data, w).catch((err: unknown) => (tables.delete(key), Promise.reject(err))))
      try {
        return await workRange(job, token!, signal!, await tables.get(key)!, w, store)
      } catch (err) {
        // Scrubbed of the pipeline's secrets before BullMQ keeps the message in Redis.
        const setup = await tables.get(key)?.catch(() => undefined)
        const clean = setup ? setup.scrubber.error(err) : err
        throw isTerminal(clean) ? new UnrecoverableError(`range ${job.data.index} of \`${job.data.table}\`: ${messageOf(clean)}`) : clean
      }
    },
    { connection, concurrency: w.concurrency, name: w.name, ...lockSettings(w.lockDuration) },
  )
  // A renewal that failed means another worker may hold the range now: stop writing it at once.
  worker.on('lockRenewalFailed', (ids: string[]) => {
    for (const id of ids) {
      w.logger.warn(`job ${id}: lock lost (this worker was stopped or too slow); leaving the range to the worker that takes it over from its stored position`)
      worker.cancelJob(id, 'lock lost')
    }
  })
  worker.on('error', (err) => w.logger.warn(`queue: ${messageOf(err)}`))
  worker.on('failed', (job, err) => job && w.logger.error(`range ${job.data.index} of \`${job.data.table}\` failed: ${messageOf(err)}`))
  await worker.waitUntilReady()
  w.logger.info(`worker ${w.name} takes ranges from queue \`${w.queueName}\` (${w.concurrency} at once)`)
  await new Promise<void>((done) => (w.stop.aborted ? done() : w.stop.addEventListener('abort', () => done(), { once: true })))
  await worker.close()
  // Connections handed to BullMQ are the caller's to close.
  connection.disconnect()
  store.disconnect()
}

/** Loads the job's pipeline as the planner named it, inspects the table, and checks it is the planner's. */
async function setUp(job: RangeJob, w: WorkerSettings): Promise<TableSetup> {
  const { name, pipeline } = await w.load(job.pipeline)
  const scrubber = Scrubber.for([pipeline, job.overrides, w.queue])
  try {
    return await inspected(job, w, name, pipeline, scrubber)
  } catch (err) {
    throw scrubber.error(err)
  }
}

async function inspected(job: RangeJob, w: WorkerSettings, name: string, pipeline: Pipeline, scrubber: Scrubber): Promise<TableSetup> {
  // The queue's URL is never in a job (it may hold a password): this worker's own is the planner's.
  const resolved = resolvePipeline(name, pipeline, { ...job.overrides, queue: w.queue })
  const s = resolved.tables.find((t) => t.targetTable === job.table)
  if (!s) throw new ConfigError(`pipeline \`${job.pipeline}\` has no table \`${job.table}\` here; the workers need the planner's pipeline files`)
  const { source, sink } = await openConnections(s, { readOnly: true })
  try {
    const seen = await inspect(s, source, sink)
    const schema = await existingTarget(sink, s, seen)
    const target = writeTarget(seen.keys, schema, seen)
    const upsertable = schema.uniqueKeys.some((u) => sameSet(u, target.key))
    const rejected = new RejectedRows(join(s.reportDir, `${name}-worker-${stamp()}.rejected.jsonl`), scrubber)
    const raw = decodedBecause(s, seen.keys, source, sink, seen.source, schema) === undefined
    return { settings: s, keys: seen.keys, target, upsertable, raw, hash: checkpointHash(s, seen.keys), rejected, scrubber }
  } finally {
    await Promise.allSettled([source.close(), sink.close()])
  }
}

/** One range, from the position its job holds (another worker's, if it was taken over) to its end. */
async function workRange(job: Job<RangeJob>, token: string, signal: AbortSignal, t: TableSetup, w: WorkerSettings, redis: ReturnType<typeof queueRedis>): Promise<RangeResult> {
  const { data } = job
  const s = t.settings
  const what = `range ${data.index} of \`${s.targetTable}\``
  if (t.hash !== data.settingsHash) {
    throw new UnrecoverableError(`${what}: this worker's pipeline \`${data.pipeline}\` has other settings than the planner's (table, key, filter, transform or databases differ); run the workers from the planner's checkout and environment`)
  }
  const progress = job.progress as RangeProgress | number
  const state = rangeState(data, typeof progress === 'object' ? progress : undefined)
  const held = typeof progress === 'object' ? state.open.get(0) : undefined
  const resumed = held?.position !== undefined ? { by: (progress as RangeProgress).worker, position: held.position, rows: sumCounts(state) } : undefined
  if (resumed) w.logger.info(`${what}: resuming from position ${JSON.stringify(resumed.position)} (${resumed.rows} rows done by ${resumed.by})`)
  const stats = new Stats()
  stats.restore(state.counts)
  const checkpoint = new Checkpoint(state, {
    store: jobStore(redis, job.queueQualifiedName + ':' + job.id, token, w.name, what),
    interval: s.checkpointInterval,
    enabled: true,
    planWritten: true,
  })
  const rejects = new TableRejects(s, t.target, stats, t.rejected, w.logger)
  const events = { ...writeEvents(s, checkpoint, rejects, { logger: w.logger, rejected: t.rejected }), readFailed: readFailed(s, w) }
  const conn = await openConnections(s)
  try {
    const ctx = { settings: s, keys: t.keys, target: t.target, upsertable: t.upsertable, raw: t.raw, stop: w.stop, stats, checkpoint, events }
    await runPartition(ctx, conn, 0, 0, signal)
  } catch (err) {
    // Stopped by the operator: the range goes back to the queue at its position, no attempt spent.
    if (err instanceof InterruptedError) {
      await job.moveToWait(token)
      throw new WaitingError()
    }
    throw err
  } finally {
    await Promise.allSettled([conn.source.close(), conn.sink.close()])
  }
  const counts = { migrated: stats.migrated, failed: stats.failed, skipped: stats.skipped, filtered: stats.filtered }
  w.logger.info(`${what} done: ${counts.migrated} rows`)
  return { counts, worker: w.name, ...(resumed && { resumed }) }
}

/** Errors no other worker would get past: bad settings, a refused row, a missing table, a bad checkpoint. */
const isTerminal = (err: unknown): boolean =>
  err instanceof ConfigError ||
  err instanceof MissingTableError ||
  err instanceof RowRejectedError ||
  err instanceof RejectedLimitError ||
  err instanceof CheckpointError ||
  (err instanceof SinkWriteError && err.kind === 'fatal')

const sumCounts = (state: CheckpointState): number => state.counts.migrated + state.counts.failed + state.counts.skipped

/** The range's checkpoint: the one its job holds, or a fresh one; its plan is the range alone. */
function rangeState(data: RangeJob, progress: RangeProgress | undefined): CheckpointState {
  const plan = planText(data.runId, data.settingsHash, [data.partition])
  if (progress) return parseState(JSON.stringify(progress.checkpoint), plan, 'the range')
  const counts = { migrated: 0, failed: 0, skipped: 0, filtered: 0 }
  const open = new Map(data.replayWhole ? [[0, { lease: Number.MAX_SAFE_INTEGER }]] : [])
  return { runId: data.runId, pipeline: data.name, table: data.table, settingsHash: data.settingsHash, partitions: [data.partition], done: new Set(), open, counts }
}
