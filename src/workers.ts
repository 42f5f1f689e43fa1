import { openConnections } from './engines/registry.js'
import type { Logger } from './log.js'
import { type Connections, type RunContext, runPartition } from './pipeline.js'

/**
 * Runs the checkpoint's unfinished partitions from a queue with `concurrency` workers. Worker 0
 * uses the run's own connections; the others open theirs. The first failure stops the others.
 */
export async function runPartitions(
  ctx: RunContext,
  main: Connections,
  concurrency: number,
  logger: Logger,
): Promise<void> {
  const checkpoint = ctx.checkpoint
  const queue = checkpoint.partitions.flatMap((_, i) => (checkpoint.isDone(i) ? [] : [i]))
  const workers = Math.max(1, Math.min(concurrency, queue.length))
  const controller = new AbortController()
  let next = 0

  async function work(worker: number): Promise<void> {
    const conn = worker === 0 ? main : await openConnections(ctx.settings)
    try {
      while (!controller.signal.aborted && next < queue.length) {
        const index = queue[next++]!
        logger.debug({ worker, chunk: index, partition: checkpoint.partitions[index] }, 'chunk started')
        await runPartition(ctx, conn, index, worker, controller.signal)
      }
    } catch (err) {
      controller.abort(err)
      throw err
    } finally {
      if (worker !== 0) await Promise.allSettled([conn.source.close(), conn.sink.close()])
    }
  }

  const results = await Promise.allSettled(Array.from({ length: workers }, (_, w) => work(w)))
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failure) throw failure.reason
}
