import type { Checkpoint } from '../src/checkpoint.js'
import type { Committed } from './write.js'

/**
 * The last stage: moves the checkpoint past each committed batch. Nothing upstream of the sink's
 * commit reaches here, so the checkpoint never runs ahead of the data.
 */
export function checkpointTap(checkpoint: Checkpoint, partition: number) {
  return async function (committed: AsyncIterable<Committed>): Promise<void> {
    for await (const batch of committed) {
      const counts = { migrated: batch.written, failed: batch.failed, skipped: batch.filtered + batch.existing, filtered: batch.filtered }
      checkpoint.committed(partition, batch.position, batch.sourceRows, counts)
    }
  }
}
