import { canonical } from '../../canonical.js'
import { ConfigError } from '../../errors.js'
import type { ColumnInfo, KeyTuple, Row } from '../../types.js'
import { jsonText } from './elasticsearch-json.js'
import { idField } from './elasticsearch-schema.js'
import { decoderFor, type Encoder, encoderFor, ValueError } from './elasticsearch-values.js'

/** What Elasticsearch hands over of a document. */
export interface Hit {
  readonly _id: string
  readonly _source?: Record<string, unknown>
  readonly sort?: unknown[]
}

/** `_id` is a keyword of at most 512 bytes. */
const maxIdBytes = 512

/**
 * The `_id` of a key: one column's value in the canonical text ferry compares keys by
 * (src/canonical.ts: `42` whether it came as 42 or 42n, a UUID in lower case, a timestamp without
 * trailing zeros), so that rows from any engine land on the same document; a composite key the
 * JSON array of its columns' texts (`["7","b"]`), which keeps the parts apart.
 */
export function documentId(tuple: KeyTuple, columns: readonly Pick<ColumnInfo, 'type'>[]): string {
  const texts = tuple.map((v, i) => {
    if (v === null || v === undefined) throw new ValueError('the key is NULL')
    return canonical(v, columns[i]!)
  })
  const id = texts.length === 1 ? texts[0]! : jsonText(texts)
  if (Buffer.byteLength(id) > maxIdBytes) throw new ValueError(`the key makes an _id of ${Buffer.byteLength(id)} bytes; Elasticsearch takes at most ${maxIdBytes}`)
  return id
}

/**
 * Rows ↔ documents of one index: every column is a top-level `_source` field of its name, the key
 * columns too (a sort and a range need them as fields), except a key column named `_id`, which is
 * the document's id itself.
 */
export class DocumentShape {
  readonly keyColumns: readonly ColumnInfo[]
  readonly #fields: readonly (readonly [string, Encoder])[]
  readonly #decoders: readonly (readonly [ColumnInfo, (v: unknown) => unknown])[]

  /** `fields`: the index's field types, which say how a decimal is written (number or text). */
  constructor(
    readonly table: string,
    readonly columns: readonly ColumnInfo[],
    readonly key: readonly string[],
    fields: ReadonlyMap<string, string>,
  ) {
    this.keyColumns = key.map((k) => {
      const column = columns.find((c) => c.name === k)
      if (!column) throw new ConfigError(`target \`${table}\`: the key column \`${k}\` is not written`)
      return column
    })
    this.#fields = columns.filter((c) => c.name !== idField).map((c) => [c.name, encoderFor(c, fields.get(c.name))] as const)
    this.#decoders = columns.map((c) => [c, decoderFor(c)] as const)
  }

  id(tuple: KeyTuple): string {
    return documentId(tuple, this.keyColumns)
  }

  /** The `_source` JSON text of a row; throws `ValueError` naming the column of a value it cannot write. */
  source(row: Row): string {
    let text = '{'
    for (const [name, encode] of this.#fields) {
      const v = row[name]
      let json: string
      try {
        json = v === null || v === undefined ? 'null' : encode(v)
      } catch (err) {
        throw new ValueError(`column \`${name}\`: ${(err as Error).message}`)
      }
      text += `${text.length > 1 ? ',' : ''}${JSON.stringify(name)}:${json}`
    }
    return `${text}}`
  }

  /**
   * A document as a row of the columns; a field the columns do not know, or a value that is not of
   * its column's type, stops the read naming the document and field (nothing is dropped silently).
   */
  row(hit: Hit, strict: boolean): Row {
    const source = hit._source ?? {}
    const row: Row = {}
    for (const [c, decode] of this.#decoders) {
      if (c.name === idField) {
        row[c.name] = hit._id
        continue
      }
      const v = source[c.name]
      try {
        row[c.name] = v === null || v === undefined ? null : decode(v)
      } catch (err) {
        throw new ValueError(`index \`${this.table}\`: field \`${c.name}\` of the document with _id ${JSON.stringify(hit._id)} ${(err as Error).message} (the column is ${c.type})`)
      }
    }
    if (strict) {
      for (const name in source) {
        if (!(name in row)) {
          throw new ValueError(
            `index \`${this.table}\`: the document with _id ${JSON.stringify(hit._id)} has field \`${name}\`, which the index's mapping does not name (a mapping with \`dynamic: false\` keeps such fields unindexed): add it to the mapping (\`PUT ${this.table}/_mapping\`) so that it is read as a column`,
          )
        }
      }
    }
    return row
  }
}
