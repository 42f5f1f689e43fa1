/** Base of every error ferry raises on purpose; anything else is a bug or a driver surprise. */
export class FerryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/** Bad input: a setting, a pipeline name, a URL. The CLI exits 2. */
export class ConfigError extends FerryError {}

/** A key that cannot be used: not unique, holding NULLs, or missing. Bad input: the CLI exits 2. */
export class KeyError extends ConfigError {}

/** A database could not be opened or a table is not there. The CLI exits 2. */
export class ConnectionError extends FerryError {}

export class MissingTableError extends FerryError {
  constructor(
    readonly table: string,
    where: string,
  ) {
    super(`table \`${table}\` does not exist in ${where}`)
  }
}

/**
 * How a failed write should be handled:
 * - `transient`: the same write may succeed later (lost connection, timeout, deadlock): retry.
 * - `rejected`: the target refuses some row of the batch for good (constraint, type): split the
 *   batch to find the row.
 * - `fatal`: nothing in this batch can succeed (missing table, permissions): stop.
 */
export type FailureKind = 'transient' | 'rejected' | 'fatal'

/** Thrown by a sink to force a classification, e.g. by fault-injection wrappers in tests. */
export class SinkWriteError extends FerryError {
  constructor(
    message: string,
    readonly kind: FailureKind,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/** A row the target refused, when the pipeline does not allow skipping rejected rows. */
export class RowRejectedError extends FerryError {
  constructor(
    readonly table: string,
    /** The row's key as text, `42` or `(7, 'b')`. */
    readonly key: string,
    cause: unknown,
  ) {
    super(`target \`${table}\` rejected the row with key ${key}: ${messageOf(cause)}`, {
      cause,
    })
  }
}

/** A file of the run's state (checkpoint, plan, lock) could not be written, e.g. a full or read-only disk. */
export class CheckpointWriteError extends FerryError {}

/** A checkpoint exists but was written by different settings, or cannot be read. */
export class CheckpointError extends FerryError {}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
