import type { ResolvedSettings, StrategyName } from './config.js'
import type { Source, TableRead } from './source.js'
import type { Json } from './types.js'

/**
 * A strategy decides which partitions a fresh run cuts the table into and how many of them run at
 * once; every partition then goes through the same pipeline (`runPartition`).
 */
export interface Strategy {
  plan(source: Source, read: TableRead, settings: ResolvedSettings): Promise<Json[]>
  concurrency(settings: ResolvedSettings): number
}

/** Consecutive partitions of about `chunkSize` rows, cut by the source. */
const chunks = (source: Source, read: TableRead, s: ResolvedSettings): Promise<Json[]> => source.partitions(read, s.chunkSize)

/** The whole filtered table as one partition, read by one cursor: memory stays at a few batches. */
const streaming: Strategy = { plan: (source, read) => source.partitions(read), concurrency: () => 1 }

/** Partitions of `chunkSize` rows one after another; the checkpoint moves partition by partition. */
const chunked: Strategy = { plan: chunks, concurrency: () => 1 }

/**
 * The chunked plan handed out from a queue to `numWorkers` workers, each with its own
 * connections; a worker that finishes a partition takes the next, so none idles while work is left.
 */
const parallel: Strategy = { plan: chunks, concurrency: (s) => s.numWorkers }

export function strategyFor(name: StrategyName): Strategy {
  switch (name) {
    case 'streaming':
      return streaming
    case 'chunked':
      return chunked
    case 'parallel':
      return parallel
    default:
      return name satisfies never
  }
}
