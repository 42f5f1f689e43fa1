import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { coalesce } from '../transforms/batch.js'
import { checkpointTap } from '../transforms/checkpoint-tap.js'
import { mapRows } from '../transforms/map-rows.js'
import { InFlight, type WriteEvents, writeBatches } from '../transforms/write.js'
import type { Checkpoint } from './checkpoint.js'
import { messageOf } from './errors.js'
import type { ResolvedSettings } from './config.js'
import { checkedPages, type Keys } from './key-check.js'
import type { Sink, WriteTarget } from './sink.js'
import { type ReadEvents, retryingRead } from './read-retry.js'
import type { Page, ReadSpec, Source } from './source.js'
import type { RunError, Stats } from './stats.js'
import type { Row } from './types.js'

/** What every partition of a run shares. */
export interface RunContext {
  readonly settings: ResolvedSettings
  readonly keys: Keys
  /** Where and how the sink writes. */
  readonly target: WriteTarget
  /** Whether the target key is unique in the target table (upserts work). */
  readonly upsertable: boolean
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
 * checkpoint tap. Runs partition `index` of the checkpoint from its position to its end.
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
  let pages: AsyncIterable<Page> = readWithRetries(ctx, conn.source, {
    table: s.sourceTable,
    key: ctx.keys.source,
    filter: s.where,
    partition: checkpoint.partitions[index]!,
    after: checkpoint.position(index),
    pageSize: s.batchSize,
    verifyUnique: ctx.keys.origin === 'asserted',
    passthrough: s.transform === undefined && conn.source.engine === conn.sink.engine,
  }, AbortSignal.any([reading.signal, stop.signal]))
  if (ctx.keys.checkWhileReading) pages = checkedPages(pages, s.sourceTable, ctx.keys)
  // A Readable, not the bare generator: it reads the next page while the sink writes this one.
  const readable = Readable.from(pages, { objectMode: true, highWaterMark: 2 })
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
function readWithRetries(ctx: RunContext, source: Source, spec: ReadSpec, signal: AbortSignal): AsyncIterable<Page> {
  const failures: RunError[] = []
  return retryingRead(source, spec, {
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
  readable: AsyncIterable<Page>,
  signal: AbortSignal,
  inFlight: InFlight,
  repeats: boolean,
): Promise<void> {
  const s = ctx.settings
  const checkpoint = ctx.checkpoint
  await pipeline(
    readable,
    mapRows(s.transform, s.sourceTable, ctx.keys.source),
    coalesce<Row>(s.batchSize),
    writeBatches({
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
    }),
    checkpointTap(checkpoint, index),
    { signal },
  )
}
