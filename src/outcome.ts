import type { DistributedSummary } from './distributed/job.js'
import type { MigrationStats } from './stats.js'
import type { ValidationResult } from './validate.js'

/**
 * How a table ended: SUCCESS; SUCCESS_WITH_REJECTS when rows were refused and set aside within
 * `maxRejectedRows`; REJECTED_ROWS when rows were set aside although the pipeline sets no limit;
 * FAILED; VALIDATION_FAILED; INTERRUPTED when the operator stopped it (its checkpoint saved);
 * NOT_RUN when an earlier table failed or was interrupted.
 */
export type TableStatus =
  | 'SUCCESS'
  | 'SUCCESS_WITH_REJECTS'
  | 'REJECTED_ROWS'
  | 'FAILED'
  | 'VALIDATION_FAILED'
  | 'INTERRUPTED'
  | 'NOT_RUN'

export interface TableResult {
  readonly sourceTable: string
  readonly targetTable: string
  readonly status: TableStatus
  readonly stats: MigrationStats
  readonly validation?: ValidationResult
  readonly error?: Error
  /** The rejected-rows files that hold this table's refused rows, from this run and those it continues. */
  readonly rejectedRowsFiles?: readonly string[]
  /** A distributed run: its queue, rows per worker, and the ranges taken over from a worker that stopped. */
  readonly distributed?: DistributedSummary
}
