import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { coalesce } from '../transforms/batch.js'
import { checkpointTap } from '../transforms/checkpoint-tap.js'
import { mapRows } from '../transforms/map-rows.js'
import { writeBatches } from '../transforms/write.js'
import type { Checkpoint } from './checkpoint.js'
import type { ResolvedSettings } from './config.js'
import type { Sink } from './sink.js'
import type { Source } from './source.js'
import type { Stats } from './stats.js'
import type { KeyRange, Row, TableSchema } from './types.js'

/** What every range of a run shares. */
export interface RunContext {
  readonly settings: ResolvedSettings
  /** The target table as the sink will write it. */
  readonly target: TableSchema
  readonly stats: Stats
  readonly checkpoint: Checkpoint
  /** True when this run continues a checkpoint: ranges may hold rows past their committed key. */
  readonly resuming: boolean
  readonly onRejected: (row: Row, err: unknown) => Promise<void>
}

/** One worker's own connections. */
export interface Connections {
  readonly source: Source
  readonly sink: Sink
}

/**
 * The one pipeline: source.read(range) → transform → batch → retry(sink.write) → checkpoint tap.
 * Runs the range at `index` of the checkpoint from its last committed key to its end.
 */
export async function runRange(
  ctx: RunContext,
  conn: Connections,
  index: number,
  worker: number,
  signal?: AbortSignal,
): Promise<void> {
  const s = ctx.settings
  const progress = ctx.checkpoint.state.ranges[index]!
  if (progress.done) return
  const range: KeyRange = {
    ...progress.range,
    ...(progress.lastKey !== undefined && { gt: progress.lastKey }),
  }
  const replayUpTo =
    ctx.resuming && s.writeMode !== 'upsert'
      ? await conn.sink.maxKey(s.targetTable, s.targetKey, range)
      : undefined
  const pages = conn.source.read({
    table: s.sourceTable,
    key: s.primaryKey,
    range,
    where: s.where,
    pageSize: s.batchSize,
  })
  // A Readable, not the bare generator: it reads the next page while the sink writes this one.
  const readable: AsyncIterable<Row[]> = Readable.from(pages, { objectMode: true, highWaterMark: 2 })
  await pipeline(
    readable,
    mapRows(s.primaryKey, s.transform),
    coalesce<Row>(s.batchSize),
    writeBatches({
      sink: conn.sink,
      target: ctx.target,
      targetKey: s.targetKey,
      mode: s.writeMode,
      maxRetries: s.maxRetries,
      retryDelay: s.retryDelay,
      skipExisting: s.skipExisting,
      stats: ctx.stats,
      onRejected: ctx.onRejected,
      replayUpTo,
    }),
    checkpointTap(ctx.checkpoint, index, ctx.stats, worker),
    { signal },
  )
  await ctx.checkpoint.complete(index, ctx.stats.counts())
}
