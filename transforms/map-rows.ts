import type { RowTransform } from '../src/config.js'
import { ConfigError } from '../src/errors.js'
import type { Page } from '../src/source.js'
import type { Row } from '../src/types.js'
import type { Batch } from './batch.js'

/**
 * Applies the pipeline's transform to each page of source rows. A transform returning null or
 * undefined drops the row (the batch's `sourceRows` still counts it). Sync transforms never await.
 * Only the `written` columns reach the target: a row carrying another one stops the run rather
 * than lose it.
 */
export function mapRows(transform: RowTransform | undefined, written: ReadonlySet<string>) {
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
        if (out == null) continue
        for (const column in out) if (!written.has(column)) throw unwritten(column, written)
        rows.push(out)
      }
      yield { rows, position: page.position, sourceRows: page.rows.length }
    }
  }
}

function unwritten(column: string, written: ReadonlySet<string>): ConfigError {
  return new ConfigError(
    `the transform made a row with column \`${column}\`, which its first rows did not have, so the target is not written with it (written: ${[...written].join(', ')}); make every row carry the same columns`,
  )
}
