import type { ResolvedSettings, StrategyName } from './config.js'
import type { DistributedSummary, PipelineOrigin } from './distributed/job.js'
import type { Logger } from './log.js'
import type { Connections, RunContext } from './pipeline.js'
import type { Source, TableRead } from './source.js'
import type { Json } from './types.js'
import { runPartitions } from './workers.js'

/** What a strategy's `run` gets besides the partitions' context. */
export interface StrategyEnv {
  readonly logger: Logger
  /** The pipeline as the command line named it; what a distributed run's workers load. */
  readonly origin?: PipelineOrigin | undefined
}

/**
 * A strategy decides which partitions a fresh run cuts the table into, and where and how many of
 * them run at once; every partition then goes through the same pipeline (`runPartition`).
 */
export interface Strategy {
  plan(source: Source, read: TableRead, settings: ResolvedSettings): Promise<Json[]>
  /** Partitions at once in this process; 0 when other processes run them. */
  concurrency(settings: ResolvedSettings): number
  /** Runs the checkpoint's unfinished partitions; `main` are the run's own connections. */
  run(ctx: RunContext, main: Connections, env: StrategyEnv): Promise<void | DistributedSummary>
}

/** Consecutive partitions of about `chunkSize` rows, cut by the source. */
const chunks = (source: Source, read: TableRead, s: ResolvedSettings): Promise<Json[]> => source.partitions(read, s.chunkSize)

/** Runs the partitions in this process, `concurrency` at once. */
const here = (concurrency: (s: ResolvedSettings) => number): Pick<Strategy, 'concurrency' | 'run'> => ({
  concurrency,
  run: (ctx, main, env) => runPartitions(ctx, main, concurrency(ctx.settings), env.logger),
})

/** The whole filtered table as one partition, read by one cursor: memory stays at a few batches. */
const streaming: Strategy = { plan: (source, read) => source.partitions(read), ...here(() => 1) }

/** Partitions of `chunkSize` rows one after another; the checkpoint moves partition by partition. */
const chunked: Strategy = { plan: chunks, ...here(() => 1) }

/**
 * The chunked plan handed out from a queue to `numWorkers` workers, each with its own
 * connections; a worker that finishes a partition takes the next, so none idles while work is left.
 */
const parallel: Strategy = { plan: chunks, ...here((s) => s.numWorkers) }

/**
 * The chunked plan as jobs on a BullMQ queue in Redis (`queue`), worked by `ferry worker`
 * processes on any number of machines; this process follows them, then validates and reports.
 */
const distributed: Strategy = {
  plan: chunks,
  concurrency: () => 0,
  run: async (ctx, _main, env) => (await import('./distributed/planner.js')).runOnWorkers(ctx, env),
}

export function strategyFor(name: StrategyName): Strategy {
  switch (name) {
    case 'streaming':
      return streaming
    case 'chunked':
      return chunked
    case 'parallel':
      return parallel
    case 'distributed':
      return distributed
    default:
      return name satisfies never
  }
}
