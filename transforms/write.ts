import pRetry from 'p-retry'
import { messageOf, SinkWriteError } from '../src/errors.js'
import { keyId } from '../src/canonical.js'
import { keyOf, keyText } from '../src/keys.js'
import { backoff } from '../src/read-retry.js'
import type { Sink, WriteKind, WriteMode, WriteResult, WriteTarget } from '../src/sink.js'
import type { Stats } from '../src/stats.js'
import type { ColumnInfo, Json, Row } from '../src/types.js'
import type { Batch } from './batch.js'

/** What the writer asks of the checkpoint about the partition it writes. */
export interface PartitionLease {
  /** True while a crashed run may already have written the next rows: write them as upserts. */
  replaying(): boolean
  /** Resolves once a durable checkpoint allows committing `sourceRows` more rows. */
  beforeCommit(sourceRows: number): Promise<void>
}

export interface WriterContext {
  readonly sink: Sink
  readonly target: WriteTarget
  readonly mode: WriteMode
  /** Whether the target key is unique in the target, so that upserts can replay a write. */
  readonly upsertable: boolean
  /** Whether rows may differ in shape from the target's columns (a transform made them). */
  readonly checkShape: boolean
  readonly maxRetries: number
  /** Milliseconds before the first retry; doubles each time. */
  readonly retryDelay: number
  readonly skipExisting: boolean
  /** Where committed rows and write failures are counted. */
  readonly stats: Stats
  /** The worker writing, for the rows-per-worker count. */
  readonly worker: number
  readonly events: WriteEvents
  readonly lease: PartitionLease
  /** Stops retries once the partition's pipeline has failed. */
  readonly signal: AbortSignal
  /** The operator's stop: no new batch starts once it is aborted, the one being written ends. */
  readonly stop: AbortSignal
  /** Tracks the write in flight, so that a failed pipeline can wait for it to settle. */
  readonly inFlight: InFlight
}

/**
 * The batch being written. When another stage fails, `pipeline()` rejects at once while a COMMIT
 * may still be on its way; the run waits for the batch to be written and counted before it closes
 * the connection and reports.
 */
export class InFlight {
  #current: Promise<unknown> = Promise.resolve()

  track<T>(write: Promise<T>): Promise<T> {
    this.#current = write.catch(() => undefined)
    return write
  }

  async settled(): Promise<void> {
    await this.#current
  }
}

/** What the writer reports as it goes; `rejected` throws when the run must stop. */
export interface WriteEvents {
  /** A row the target refuses for good. */
  rejected(row: Row, err: unknown): Promise<void>
  /** The target refused a whole batch, which is now split to find the rows it refuses. */
  split(rows: readonly Row[], err: unknown): void
  /** A split batch is written: `refused` of its rows were refused. */
  splitDone(rows: readonly Row[], refused: number): void
  /** A write attempt failed transiently; `retriesLeft` more will be made. */
  attemptFailed(err: unknown, attempt: number, retriesLeft: number, rows: number): void
}

/** What the checkpoint tap learns of each committed batch; its counts add up to `sourceRows`. */
export interface Committed {
  readonly position: Json
  readonly sourceRows: number
  readonly written: number
  /** Dropped by the transform. */
  readonly filtered: number
  /** Already in the target (skip-existing). */
  readonly existing: number
  /** Rejected by the target and set aside. */
  readonly failed: number
}

/**
 * The sink stage: skips rows already in the target when asked, writes each batch in one
 * transaction with retries (exponential backoff) for transient failures, and splits a batch the
 * target rejects until the offending rows are isolated, so the good rows still load.
 */
export function writeBatches(ctx: WriterContext) {
  return async function* (batches: AsyncIterable<Batch>): AsyncGenerator<Committed> {
    for await (const batch of batches) {
      // Once the partition failed elsewhere or the operator stops the run, no new batch starts.
      ctx.signal.throwIfAborted()
      ctx.stop.throwIfAborted()
      yield await ctx.inFlight.track(writeBatch(ctx, batch))
    }
  }
}

/** Writes one batch and counts it once committed. */
async function writeBatch(ctx: WriterContext, batch: Batch): Promise<Committed> {
  let rows = ctx.checkShape ? await withoutMisshapen(ctx, batch.rows) : batch.rows
  const misshapen = batch.rows.length - rows.length
  if (ctx.skipExisting && rows.length > 0) rows = await withoutExisting(ctx, rows)
  const filtered = batch.sourceRows - batch.rows.length
  const existing = batch.rows.length - misshapen - rows.length
  const kind = kindOf(ctx)
  await ctx.lease.beforeCommit(batch.sourceRows)
  const written = rows.length > 0 ? await writeOrIsolate(ctx, rows, kind) : 0
  const failed = rows.length - written + misshapen
  // Counted here, not by the stage after: a run that fails meanwhile still counts this batch.
  ctx.stats.committed({ migrated: written, failed, skipped: filtered + existing, filtered }, ctx.worker)
  return { position: batch.position, sourceRows: batch.sourceRows, written, filtered, existing, failed }
}

/** Upserts in upsert mode and while a resumed partition replays what a crashed run may have written. */
export function kindOf(ctx: WriterContext): WriteKind {
  return ctx.mode === 'upsert' || ctx.lease.replaying() ? 'upsert' : 'insert'
}

/**
 * The rows whose shape fits the written columns; the others are refused rows, each naming its
 * column: one the target is not written with (it would be dropped), or a written one left
 * `undefined` (a slip for NULL, which it would silently become).
 */
async function withoutMisshapen(ctx: WriterContext, rows: Row[]): Promise<Row[]> {
  const written = new Set(ctx.target.columns.map((c) => c.name))
  const fit: Row[] = []
  for (const row of rows) {
    const problem = shapeProblem(row, ctx.target, written)
    if (problem === undefined) fit.push(row)
    else await ctx.events.rejected(row, new SinkWriteError(problem, 'rejected'))
  }
  return fit
}

function shapeProblem(row: Row, target: WriteTarget, written: ReadonlySet<string>): string | undefined {
  for (const name in row) {
    if (!written.has(name)) return `the row has column \`${name}\`, which \`${target.table}\` is not written with (${[...written].join(', ')})`
  }
  for (const c of target.columns) {
    if (row[c.name] === undefined) return `column \`${c.name}\` is undefined in the row (null writes NULL)`
  }
  return undefined
}

function keyColumns(target: WriteTarget): ColumnInfo[] {
  return target.key.map((name) => target.columns.find((c) => c.name === name)!)
}

async function withoutExisting(ctx: WriterContext, rows: Row[]): Promise<Row[]> {
  const columns = keyColumns(ctx.target)
  const keyOnly = { ...ctx.target, columns }
  const found = await ctx.sink.lookup(keyOnly, rows.map((r) => keyOf(r, ctx.target.key)))
  if (found.length === 0) return rows
  const existing = new Set(found.map((r) => keyId(keyOf(r, ctx.target.key), columns)))
  return rows.filter((r) => !existing.has(keyId(keyOf(r, ctx.target.key), columns)))
}

/** Returns how many rows were written; rejected rows are handed to `onRejected`. */
async function writeOrIsolate(ctx: WriterContext, rows: Row[], kind: WriteKind): Promise<number> {
  try {
    return await writeReporting(ctx, rows, kind)
  } catch (err) {
    return isolate(ctx, rows, kind, err)
  }
}

/**
 * After the target refused the batch `rows` with `err`: splits it until each refused row stands
 * alone and is set aside, writing the others; returns how many were written. Rethrows any other error.
 */
export async function isolate(ctx: WriterContext, rows: Row[], kind: WriteKind, err: unknown): Promise<number> {
  if (ctx.sink.classify(err) !== 'rejected') throw err
  if (rows.length === 1) {
    await ctx.events.rejected(rows[0]!, err)
    return 0
  }
  ctx.events.split(rows, err)
  const written = await splitAndWrite(ctx, rows, kind)
  ctx.events.splitDone(rows, rows.length - written)
  return written
}

/** Writes the halves of a refused batch, splitting further until each refused row stands alone. */
async function splitAndWrite(ctx: WriterContext, rows: Row[], kind: WriteKind): Promise<number> {
  const half = rows.length >> 1
  let written = 0
  for (const part of [rows.slice(0, half), rows.slice(half)]) {
    try {
      written += await writeReporting(ctx, part, kind)
    } catch (err) {
      if (ctx.sink.classify(err) !== 'rejected') throw err
      if (part.length === 1) await ctx.events.rejected(part[0]!, err)
      else written += await splitAndWrite(ctx, part, kind)
    }
  }
  return written
}

/**
 * Writes rows and returns how many the target took: the rows a sink reports refused one by one
 * (`WriteResult`) were not written, and are set aside like rows a split isolates.
 */
async function writeReporting(ctx: WriterContext, rows: Row[], kind: WriteKind): Promise<number> {
  const result = await writeWithRetry(ctx, rows, kind)
  const refused = result?.rejected ?? []
  for (const { index, error } of refused) await ctx.events.rejected(rows[index]!, error)
  return rows.length - refused.length
}

function writeWithRetry(ctx: WriterContext, rows: Row[], kind: WriteKind): Promise<WriteResult | void> {
  const about = { rows: rows.length, key: () => keyText(keyOf(rows[0]!, ctx.target.key)) }
  return withRetries(ctx, about, kind, (k) => ctx.sink.write(ctx.target, rows, k))
}

/**
 * One batch's write, `write(kind)`, tried again with exponential backoff after transient failures;
 * `about` says how many rows it holds and the first one's key, for the run's errors.
 */
export async function withRetries<T>(
  ctx: WriterContext,
  about: { rows: number; key: () => string },
  kind: WriteKind,
  write: (kind: WriteKind) => Promise<T>,
): Promise<T> {
  const failures: { resolved: number }[] = []
  let attempt: Promise<T> | undefined
  let result: T
  // A transient failure may have come after the commit (a lost reply): the batch may be in the
  // target already, so it is retried as an upsert, as a resume replays what may have been written.
  const retryKind: WriteKind = ctx.upsertable ? 'upsert' : kind
  let tries = 0
  try {
    result = await pRetry(() => (attempt = write(tries++ === 0 ? kind : retryKind)), retryOptions(ctx, about, failures))
  } catch (err) {
    // Stopped from outside (p-retry gives up at once): the attempt under way, if any, still
    // decides whether the batch is in the target, and a committed batch must be counted.
    const committed = ctx.signal.aborted && attempt !== undefined && (await attempt.then((r) => ({ r }), () => undefined))
    if (committed) return committed.r
    if (!ctx.upsertable && ctx.sink.classify(err) === 'transient') throw notRetried(ctx, err)
    throw err
  }
  for (const failure of failures) failure.resolved += 1
  return result
}

function notRetried(ctx: WriterContext, err: unknown): SinkWriteError {
  return new SinkWriteError(
    `${messageOf(err)}; not retried: \`${ctx.target.table}\` has no unique key on (${ctx.target.key.join(', ')}), so a retry could write the batch twice; add a primary key or unique constraint to make failed writes retryable`,
    'fatal',
    { cause: err },
  )
}

function retryOptions(ctx: WriterContext, about: { rows: number; key: () => string }, failures: { resolved: number }[]): Parameters<typeof pRetry>[1] {
  return {
    signal: ctx.signal,
    // Without a unique target key a retry cannot tell a batch already committed (a lost reply)
    // from one that was not: it could only write it twice.
    retries: ctx.upsertable ? ctx.maxRetries : 0,
    ...backoff(ctx.retryDelay),
    shouldRetry: ({ error }) => ctx.sink.classify(error) === 'transient',
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (ctx.signal.aborted || ctx.sink.classify(error) !== 'transient') return
      failures.push(
        ctx.stats.addError({
          message: messageOf(error),
          rows: about.rows,
          resolved: false,
          kind: 'transient',
          key: about.key(),
        }),
      )
      ctx.events.attemptFailed(error, attemptNumber, retriesLeft, about.rows)
    },
  }
}
