import type { RowTransform } from '../src/config.js'
import type { Page } from '../src/source.js'
import type { Row } from '../src/types.js'
import type { Batch } from './batch.js'

/**
 * Applies the pipeline's transform to each page of source rows. A transform returning null or
 * undefined drops the row (the batch's `sourceRows` still counts it). Sync transforms never await.
 */
export function mapRows(transform: RowTransform | undefined) {
  return async function* (pages: AsyncIterable<Page>): AsyncGenerator<Batch> {
    for await (const page of pages) {
      if (!transform) {
        yield { rows: page.rows, position: page.position, sourceRows: page.rows.length }
        continue
      }
      const rows: Row[] = []
      for (const row of page.rows) {
        let out = transform(row)
        if (out instanceof Promise) out = await out
        if (out != null) rows.push(out)
      }
      yield { rows, position: page.position, sourceRows: page.rows.length }
    }
  }
}
