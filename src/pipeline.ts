import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { coalesce } from '../transforms/batch.js'
import { checkpointTap } from '../transforms/checkpoint-tap.js'
import { mapRows } from '../transforms/map-rows.js'
import { InFlight, type WriteEvents, writeBatches, type WriterContext } from '../transforms/write.js'
import { writeRawPages } from '../transforms/write-raw.js'
import type { Checkpoint } from './checkpoint.js'
import { messageOf } from './errors.js'
import type { ResolvedSettings } from './config.js'
import { checkedPages, type Keys } from './key-check.js'
import type { Sink, WriteTarget } from './sink.js'
import type { ReadingPage } from './raw.js'
import { type ReadEvents, retryingPages } from './read-retry.js'
import type { Page, ReadSpec, Source } from './source.js'
import type { RunError, Stats } from './stats.js'
import type { Json, Row } from './types.js'

/** What every partition of a run shares. */
export interface RunContext {
  readonly settings: ResolvedSettings
  readonly keys: Keys
  /** Where and how the sink writes. */
  readonly target: WriteTarget
  /** Whether the target key is unique in the target table (upserts work). */
  readonly upsertable: boolean
  /** Whether the rows pass through as the engine's raw bulk text, never decoded (`passthroughFor`). */
  readonly raw: boolean
  /** Aborted (with an `InterruptedError`) to stop at the next batch boundary. */
  readonly stop: AbortSignal
  readonly stats: Stats
  readonly checkpoint: Checkpoint
  readonly events: WriteEvents & ReadEvents
}

/** One worker's own connections. */
export interface Connections {
  readonly source: Source
  readonly sink: Sink
}

/**
 * The one pipeline: source.read(partition, position) → transform → batch → retry(sink.write) →
 * checkpoint tap; for a raw passthrough, source.raw.read → retry(sink.raw.write) → checkpoint tap.
 * Runs partition `index` of the checkpoint from its position to its end.
 */
export async function runPartition(
  ctx: RunContext,
  conn: Connections,
  index: number,
  worker: number,
  signal?: AbortSignal,
): Promise<void> {
  const s = ctx.settings
  const checkpoint = ctx.checkpoint
  if (checkpoint.isDone(index)) return
  const stop = new AbortController()
  const stopWith = () => stop.abort(signal?.reason)
  signal?.addEventListener('abort', stopWith, { once: true })
  const reading = new AbortController()
  const spec: ReadSpec = {
    table: s.sourceTable,
    key: ctx.keys.source,
    filter: s.where,
    partition: checkpoint.partitions[index]!,
    after: checkpoint.position(index),
    pageSize: s.batchSize,
    pageBytes: s.batchBytes,
    verifyUnique: ctx.keys.origin === 'asserted',
    passthrough: s.transform === undefined && conn.source.engine === conn.sink.engine,
  }
  const readSignal = AbortSignal.any([reading.signal, stop.signal])
  let pages: AsyncIterable<Page | ReadingPage>
  if (ctx.raw) {
    const raw = conn.source.raw!
    pages = readWithRetries(ctx, (after) => raw.read({ ...spec, pageSize: s.rawBatchSize ?? s.batchSize, after }), conn.source, spec.after, readSignal)
  } else {
    pages = readWithRetries(ctx, (after) => conn.source.read({ ...spec, after }), conn.source, spec.after, readSignal)
    if (ctx.keys.checkWhileReading) pages = checkedPages(pages as AsyncIterable<Page>, s.sourceTable, ctx.keys)
  }
  // A Readable, not the bare generator: it reads the next page while the sink writes this one.
  const readable = Readable.from(pages, { objectMode: true, highWaterMark: ctx.raw ? 1 : 2 })
  // A failed stage destroys the reader, which waits for the generator: a read sitting out its
  // retries' backoff stops at once instead.
  const destroy = readable._destroy.bind(readable)
  readable._destroy = (err, callback) => {
    reading.abort(err ?? undefined)
    destroy(err, callback)
  }
  const inFlight = new InFlight()
  // A source that may repeat rows after a resume has its resumed partition upserted to the end.
  const repeats = conn.source.resumeRepeats === true && checkpoint.position(index) !== undefined
  try {
    await runStages(ctx, conn, index, worker, readable, stop.signal, inFlight, repeats)
  } catch (err) {
    // No retry may start once a stage failed, and the write in flight ends before the caller
    // closes its connection: otherwise it would be retried on a reopened one after the run ended.
    stop.abort(err)
    await inFlight.settled()
    throw err
  } finally {
    signal?.removeEventListener('abort', stopWith)
  }
  await checkpoint.complete(index)
}

/** The partition's read, started again from its last page after a transient failure. */
function readWithRetries<P extends { readonly position: Json | undefined }>(
  ctx: RunContext,
  read: (after: Json | undefined) => AsyncIterable<P>,
  source: Source,
  from: Json | undefined,
  signal: AbortSignal,
): AsyncIterable<P> {
  const failures: RunError[] = []
  return retryingPages(read, (err) => source.classify(err), from, {
    maxRetries: ctx.settings.maxRetries,
    retryDelay: ctx.settings.retryDelay,
    signal,
    failed: (err, attempt, retriesLeft, delay, position) => {
      failures.push(ctx.stats.addError({ kind: 'transient', message: `source read: ${messageOf(err)}`, rows: 0, resolved: false }))
      ctx.events.readFailed(err, attempt, retriesLeft, delay, position)
    },
    resolved: () => {
      for (const failure of failures.splice(0)) failure.resolved += 1
    },
  })
}

async function runStages(
  ctx: RunContext,
  conn: Connections,
  index: number,
  worker: number,
  readable: AsyncIterable<Page | ReadingPage>,
  signal: AbortSignal,
  inFlight: InFlight,
  repeats: boolean,
): Promise<void> {
  const s = ctx.settings
  const checkpoint = ctx.checkpoint
  const writer: WriterContext = {
    sink: conn.sink,
    target: ctx.target,
    mode: s.writeMode,
    upsertable: ctx.upsertable,
    checkShape: s.transform !== undefined,
    maxRetries: s.maxRetries,
    retryDelay: s.retryDelay,
    skipExisting: s.skipExisting,
    stats: ctx.stats,
    worker,
    events: ctx.events,
    lease: {
      replaying: () => repeats || checkpoint.replaying(index),
      beforeCommit: (rows) => checkpoint.beforeCommit(index, rows),
    },
    signal,
    stop: ctx.stop,
    inFlight,
  }
  const tap = checkpointTap(checkpoint, index)
  if (ctx.raw) {
    await pipeline(readable as AsyncIterable<ReadingPage>, writeRawPages(writer), tap, { signal })
    return
  }
  const rows = readable as AsyncIterable<Page>
  await pipeline(rows, mapRows(s.transform, s.sourceTable, ctx.keys.source), coalesce<Row>(s.batchSize, s.batchBytes), writeBatches(writer), tap, { signal })
}
