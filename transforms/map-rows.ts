import type { RowTransform } from '../src/config.js'
import { FerryError, messageOf } from '../src/errors.js'
import { keyOf, keyText } from '../src/keys.js'
import type { Page } from '../src/source.js'
import type { Row } from '../src/types.js'
import type { Batch } from './batch.js'

/** The pipeline's transform threw: the run stops naming the table and the row's key. */
export class TransformError extends FerryError {}

/**
 * Applies the pipeline's transform to each page of source rows. A transform returning null or
 * undefined drops the row (the batch's `sourceRows` still counts it). Sync transforms never await.
 */
export function mapRows(transform: RowTransform | undefined, table: string, key: readonly string[]) {
  return async function* (pages: AsyncIterable<Page>): AsyncGenerator<Batch> {
    for await (const page of pages) {
      if (!transform) {
        yield { rows: page.rows, position: page.position, sourceRows: page.rows.length }
        continue
      }
      const rows: Row[] = []
      for (const row of page.rows) {
        // Its key is read before the transform, which may change the row it is given.
        const tuple = keyOf(row, key)
        let out
        try {
          out = transform(row)
          if (out instanceof Promise) out = await out
        } catch (err) {
          throw new TransformError(`the transform threw on the row of \`${table}\` with key ${keyText(tuple)}: ${messageOf(err)}`, { cause: err })
        }
        if (out != null) rows.push(out)
      }
      yield { rows, position: page.position, sourceRows: page.rows.length }
    }
  }
}
