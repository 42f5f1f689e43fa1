import { openConnections } from './engines/registry.js'
import { InterruptedError } from './interrupt.js'
import type { Logger } from './log.js'
import { type Connections, type RunContext, runPartition } from './pipeline.js'

/**
 * Runs the checkpoint's unfinished partitions from a queue with `concurrency` workers. Worker 0
 * uses the run's own connections; the others open theirs. The first failure stops the others, and
 * is the one reported: the others then fail only because they were stopped.
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
  let first: { error: unknown } | undefined

  async function work(worker: number): Promise<void> {
    let conn: Connections | undefined
    try {
      conn = worker === 0 ? main : await openConnections(ctx.settings)
      while (!controller.signal.aborted && !ctx.stop.aborted && next < queue.length) {
        const index = queue[next++]!
        logger.debug({ worker, chunk: index, partition: checkpoint.partitions[index] }, 'chunk started')
        await runPartition(ctx, conn, index, worker, controller.signal)
      }
    } catch (err) {
      if (!controller.signal.aborted && !first) {
        first = { error: err }
        // The operator's stop lets the other workers finish their batch; a failure stops them now.
        if (!(err instanceof InterruptedError)) controller.abort(err)
      }
    } finally {
      if (worker !== 0 && conn) await Promise.allSettled([conn.source.close(), conn.sink.close()])
    }
  }

  await Promise.all(Array.from({ length: workers }, (_, w) => work(w)))
  if (first) throw first.error
  ctx.stop.throwIfAborted()
}
