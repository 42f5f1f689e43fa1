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
 * Merges consecutive batches until each holds `size` rows, so a transform that drops most rows
 * does not turn into many tiny transactions. Pages already at size pass through untouched.
 */
export function coalesce<R>(size: number) {
  return async function* (batches: AsyncIterable<Batch<R>>): AsyncGenerator<Batch<R>> {
    let pending: Batch<R> | undefined
    for await (const batch of batches) {
      if (!pending) {
        pending = batch
      } else {
        pending = {
          rows: pending.rows.concat(batch.rows),
          position: batch.position,
          sourceRows: pending.sourceRows + batch.sourceRows,
        }
      }
      if (pending.rows.length >= size) {
        yield pending
        pending = undefined
      }
    }
    if (pending) yield pending
  }
}
