import { Redis } from 'ioredis'
import type { Counts } from '../stats.js'
import type { Json } from '../types.js'

// What the planner and the workers of a distributed run agree on: the job a range becomes, what a
// worker stores in it as it commits, and what it returns. No connection setting is ever in a job:
// each worker takes them from its own copy of the pipeline file and its own environment.

/** Where a run's pipeline comes from, as the command line named it: what its workers load. */
export interface PipelineOrigin {
  /** A pipeline's name in pipelines/, or a path to its file, as each worker's checkout resolves it. */
  readonly pipeline: string
  /** The command line's settings (`--where`, `--batch-size`…); connections are never among them. */
  readonly overrides: Record<string, unknown>
}

/** One range of a table as a BullMQ job's data. */
export interface RangeJob extends PipelineOrigin {
  /** The pipeline's name (`users`), as reports and `--status` show it. */
  readonly name: string
  /** The target table: which table of a multi-table pipeline. */
  readonly table: string
  readonly runId: string
  /** The planner's settings hash: a worker whose pipeline file differs refuses the range. */
  readonly settingsHash: string
  /** The range's index in the plan. */
  readonly index: number
  readonly partition: Json
  /**
   * Set when a resumed planner found the range's job gone (and its stored position with it): the
   * target may hold any of its rows, so the whole range is written as upserts.
   */
  readonly replayWhole?: boolean
}

/** What a worker stores in the job (its `progress`) with each checkpoint: who holds the range, and where it stands. */
export interface RangeProgress {
  readonly worker: string
  /** The range's checkpoint, in the checkpoint file's format (see `parseState`), its plan being the one range. */
  readonly checkpoint: { readonly counts: Counts; readonly open: readonly { readonly position?: Json; readonly lease: number }[] }
}

/** What a finished range returns to the planner. */
export interface RangeResult {
  /** The range's counts, over every worker that held it. */
  readonly counts: Counts
  readonly worker: string
  /** Set when the worker took over a range another worker had started: where it resumed. */
  readonly resumed?: { readonly by: string; readonly position: Json; readonly rows: number }
}

/**
 * The job's id: the same for a range on every planning of the same run (the run id is in the
 * planner's checkpoint), so a second planner or a resumed one adds nothing twice.
 */
export const rangeJobId = (runId: string, index: number): string => `${runId}-${index}`

/** A connection BullMQ can block on: it retries commands forever instead of failing them. */
export function queueRedis(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null })
}

/** How a range job is retried: stalls cost nothing (the range resumes from its position), failures are tried three times. */
export const jobOptions = (retryDelay: number) => ({
  attempts: 3,
  backoff: { type: 'exponential', delay: Math.max(retryDelay, 1000) },
  removeOnComplete: false,
  removeOnFail: false,
})

/** Worker lock settings: a worker silent for `lockDuration` ms loses its ranges to the others. */
export const lockSettings = (lockDuration: number) => ({ lockDuration, stalledInterval: lockDuration, maxStalledCount: 20 })

/** What a distributed run's report says of its workers. */
export interface DistributedSummary {
  /** The queue's Redis URL (credentials redacted when the report is written) and name. */
  readonly queue: string
  readonly queueName: string
  readonly ranges: number
  /** Rows written, by worker name. */
  readonly workers: Record<string, number>
  /** Ranges a worker took over from another that stopped holding them, and where each resumed. */
  readonly resumed: readonly ({ readonly range: number; readonly worker: string } & NonNullable<RangeResult['resumed']>)[]
}
