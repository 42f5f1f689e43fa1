import type { RowTransform } from '../src/config.js'
import type { Key, Row } from '../src/types.js'
import type { Batch } from './batch.js'

/**
 * Applies the pipeline's transform to each page of source rows. A transform returning null or
 * undefined drops the row (the batch's `sourceRows` still counts it). Sync transforms never await.
 */
export function mapRows(key: string, transform: RowTransform | undefined) {
  return async function* (pages: AsyncIterable<Row[]>): AsyncGenerator<Batch> {
    for await (const page of pages) {
      const lastKey = page[page.length - 1]![key] as Key
      if (!transform) {
        yield { rows: page, lastKey, sourceRows: page.length }
        continue
      }
      const rows: Row[] = []
      for (const row of page) {
        let out = transform(row)
        if (out instanceof Promise) out = await out
        if (out != null) rows.push(out)
      }
      yield { rows, lastKey, sourceRows: page.length }
    }
  }
}
