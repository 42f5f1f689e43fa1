import pRetry from 'p-retry'
import { messageOf } from '../src/errors.js'
import { keyId } from '../src/keys.js'
import type { Sink, WriteKind, WriteMode } from '../src/sink.js'
import type { Stats } from '../src/stats.js'
import type { Key, Row, TableSchema } from '../src/types.js'
import type { Batch } from './batch.js'

export interface WriterContext {
  readonly sink: Sink
  readonly target: TableSchema
  readonly targetKey: string
  readonly mode: WriteMode
  readonly maxRetries: number
  /** Milliseconds before the first retry; doubles each time. */
  readonly retryDelay: number
  readonly skipExisting: boolean
  /** Where write failures are recorded. */
  readonly stats: Stats
  /** Called with each row the target refuses for good; throws when the run must stop. */
  readonly onRejected: (row: Row, err: unknown) => Promise<void>
  /**
   * On resume: the largest target key in this range. A killed run may have committed rows past its
   * checkpoint up to here, so batches are upserted until the one holding this key has been written.
   */
  readonly replayUpTo?: Key | undefined
}

/** What the checkpoint tap learns of each committed batch; its counts add up to `sourceRows`. */
export interface Committed {
  readonly lastKey: Key
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
    let replayUntil = ctx.replayUpTo === undefined ? undefined : keyId(ctx.replayUpTo)
    for await (const batch of batches) {
      let rows = batch.rows
      if (ctx.skipExisting && rows.length > 0) rows = await withoutExisting(ctx, rows)
      const filtered = batch.sourceRows - batch.rows.length
      const existing = batch.rows.length - rows.length
      let kind: WriteKind = ctx.mode === 'upsert' ? 'upsert' : 'insert'
      if (replayUntil !== undefined) {
        kind = 'upsert'
        if (rows.some((r) => keyId(r[ctx.targetKey]) === replayUntil)) replayUntil = undefined
      }
      const written = rows.length > 0 ? await writeOrIsolate(ctx, rows, kind) : 0
      const failed = rows.length - written
      yield { lastKey: batch.lastKey, sourceRows: batch.sourceRows, written, filtered, existing, failed }
    }
  }
}

async function withoutExisting(ctx: WriterContext, rows: Row[]): Promise<Row[]> {
  const keys = rows.map((r) => r[ctx.targetKey] as Key)
  const existing = await ctx.sink.existingKeys(ctx.target.table, ctx.targetKey, keys)
  if (existing.size === 0) return rows
  return rows.filter((r) => !existing.has(keyId(r[ctx.targetKey])))
}

/** Returns how many rows were written; rejected rows are handed to `onRejected`. */
async function writeOrIsolate(ctx: WriterContext, rows: Row[], kind: WriteKind): Promise<number> {
  try {
    await writeWithRetry(ctx, rows, kind)
    return rows.length
  } catch (err) {
    if (ctx.sink.classify(err) !== 'rejected') throw err
    if (rows.length === 1) {
      await ctx.onRejected(rows[0]!, err)
      return 0
    }
    const half = rows.length >> 1
    const left = await writeOrIsolate(ctx, rows.slice(0, half), kind)
    return left + (await writeOrIsolate(ctx, rows.slice(half), kind))
  }
}

async function writeWithRetry(ctx: WriterContext, rows: Row[], kind: WriteKind): Promise<void> {
  const failures: { resolved: boolean }[] = []
  await pRetry(() => ctx.sink.write(ctx.target, rows, kind), {
    retries: ctx.maxRetries,
    factor: 2,
    minTimeout: ctx.retryDelay,
    maxTimeout: Math.max(ctx.retryDelay, 5 * 60_000),
    randomize: false,
    shouldRetry: ({ error }) => ctx.sink.classify(error) === 'transient',
    onFailedAttempt: ({ error, attemptNumber }) => {
      if (ctx.sink.classify(error) !== 'transient') return
      failures.push(
        ctx.stats.addError({
          message: messageOf(error),
          rows: rows.length,
          attempt: attemptNumber,
          resolved: false,
          kind: 'transient',
          key: keyId(rows[0]![ctx.targetKey]),
        }),
      )
    },
  })
  for (const failure of failures) failure.resolved = true
}
