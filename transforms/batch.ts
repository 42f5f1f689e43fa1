import { rowsBytes } from '../src/row-bytes.js'
import type { Json, Row } from '../src/types.js'

/**
 * Rows on their way to the sink, with the source position after the last source row they cover:
 * the checkpoint moves there once the batch is committed, even when the transform dropped the row
 * that had it.
 */
export interface Batch<R = Row> {
  readonly rows: R[]
  readonly position: Json
  /** Source rows this batch stands for (rows dropped by the transform included). */
  readonly sourceRows: number
}

/**
 * Merges consecutive batches up to `size` rows and about `bytes` bytes (`rowsBytes`), so a
 * transform that drops most rows does not turn into many tiny transactions, and no merge passes
 * either limit. Pages already at either limit pass through untouched: a
 * source cuts its pages by both (a page's position is the source's, so the core cannot split one).
 */
export function coalesce<R extends Row>(size: number, bytes = Number.POSITIVE_INFINITY) {
  const measured = Number.isFinite(bytes)
  return async function* (batches: AsyncIterable<Batch<R>>): AsyncGenerator<Batch<R>> {
    let pending: Batch<R> | undefined
    let pendingBytes = 0
    for await (const batch of batches) {
      const batchBytes = measured && batch.rows.length < size ? rowsBytes(batch.rows) : 0
      // Merging would pass a limit: what is pending goes first.
      if (pending && (pending.rows.length + batch.rows.length > size || pendingBytes + batchBytes > bytes)) {
        yield pending
        pending = undefined
      }
      if (!pending) {
        pending = batch
        pendingBytes = batchBytes
      } else {
        pending = {
          rows: pending.rows.concat(batch.rows),
          position: batch.position,
          sourceRows: pending.sourceRows + batch.sourceRows,
        }
        pendingBytes += batchBytes
      }
      if (pending.rows.length >= size || pendingBytes >= bytes) {
        yield pending
        pending = undefined
      }
    }
    if (pending) yield pending
  }
}
