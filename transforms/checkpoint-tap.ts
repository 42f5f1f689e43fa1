import type { Checkpoint } from '../src/checkpoint.js'
import type { Stats } from '../src/stats.js'
import type { Committed } from './write.js'

/**
 * The last stage: counts committed batches into the run's statistics, then moves the checkpoint.
 * Nothing upstream of the sink's commit reaches here, so the checkpoint never runs ahead of the data.
 */
export function checkpointTap(checkpoint: Checkpoint, partition: number, stats: Stats, worker: number) {
  return async function (committed: AsyncIterable<Committed>): Promise<void> {
    for await (const batch of committed) {
      stats.migrated += batch.written
      stats.skipped += batch.filtered + batch.existing
      stats.filtered += batch.filtered
      stats.failed += batch.failed
      stats.workers[worker] = (stats.workers[worker] ?? 0) + batch.written
      checkpoint.committed(partition, batch.position, batch.sourceRows, stats.counts())
    }
  }
}
