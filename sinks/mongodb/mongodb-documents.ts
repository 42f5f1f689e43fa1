import type { Document } from 'mongodb'
import { ConfigError, SinkWriteError } from '../../src/errors.js'
import { keyOf, keyText } from '../../src/keys.js'
import type { WriteTarget } from '../../src/sink.js'
import type { ColumnInfo, KeyTuple, Row } from '../../src/types.js'
import { type EncodeOptions, fromBson, toBson, ValueError } from '../../src/engines/mongodb/mongodb-values.js'

/**
 * How rows become documents and back: the target key is the document's `_id` (a composite key an
 * `_id` document of its columns, in key order, as MongoDB compares embedded documents field by
 * field in order); every other column is a top-level field of the same name.
 */
export class DocumentShape {
  readonly keyColumns: readonly ColumnInfo[]
  readonly fields: readonly ColumnInfo[]

  constructor(readonly target: WriteTarget) {
    this.keyColumns = target.key.map((k) => {
      const column = target.columns.find((c) => c.name === k)
      if (!column) throw new ConfigError(`target \`${target.table}\`: the key column \`${k}\` is not written`)
      return column
    })
    this.fields = target.columns.filter((c) => !target.key.includes(c.name))
    checkNames(target.table, target.columns.map((c) => c.name), target.key)
  }

  /** The rows as documents; a value its column cannot hold exactly refuses the batch, naming it. */
  documents(rows: readonly Row[], options: EncodeOptions): Document[] {
    return rows.map((row) => {
      const doc: Document = { _id: this.id(keyOf(row, this.target.key), options, row) }
      for (const c of this.fields) doc[c.name] = encode(row[c.name], c, options, this.target, row)
      return doc
    })
  }

  /** A key tuple as the `_id` it is stored under. */
  id(tuple: KeyTuple, options: EncodeOptions, row?: Row): unknown {
    const values = this.keyColumns.map((c, i) => {
      if (tuple[i] === null || tuple[i] === undefined) {
        throw new SinkWriteError(`key column \`${c.name}\` is NULL${row ? ` in a row of \`${this.target.table}\`` : ''}`, 'rejected')
      }
      return encode(tuple[i], c, options, this.target, row)
    })
    if (values.length === 1) return values[0]
    return Object.fromEntries(this.keyColumns.map((c, i) => [c.name, values[i]]))
  }

  /** A stored document as the row a source would read, with `columns`. */
  row(doc: Document, columns: readonly ColumnInfo[]): Row {
    const row: Row = {}
    const id = doc._id as unknown
    this.keyColumns.forEach((c) => {
      const value = this.keyColumns.length === 1 ? id : (id as Record<string, unknown> | null)?.[c.name]
      row[c.name] = fromBson(value, c)
    })
    for (const c of columns) if (!(c.name in row)) row[c.name] = fromBson(doc[c.name], c)
    return row
  }

  /** The key tuple of a stored document. */
  key(doc: Document): KeyTuple {
    const row = this.row(doc, [])
    return this.keyColumns.map((c) => row[c.name])
  }
}

function encode(value: unknown, column: ColumnInfo, options: EncodeOptions, target: WriteTarget, row?: Row): unknown {
  try {
    return toBson(value, column, options)
  } catch (err) {
    if (!(err instanceof ValueError)) throw err
    const which = row ? ` of the row with key ${keyText(keyOf(row, target.key))}` : ''
    throw new SinkWriteError(`column \`${column.name}\`${which} cannot be written exactly: ${err.message}`, 'rejected')
  }
}

/**
 * Field names a document can take as written: no `.` (an update would read it as a path into an
 * embedded document), no leading `$` (an operator) and no NUL; `_id` only as the whole key.
 */
function checkNames(table: string, names: readonly string[], key: readonly string[]): void {
  for (const name of names) {
    if (name === '_id' && !(key.length === 1 && key[0] === '_id')) {
      throw new ConfigError(
        `target \`${table}\`: the rows carry \`_id\` but the target key is (${key.map((k) => `\`${k}\``).join(', ')}); a document's _id is its target key: set \`targetKey: '_id'\`, or rename or drop \`_id\` in the transform`,
      )
    }
    if (name.includes('.') || name.startsWith('$') || name.includes('\0')) {
      throw new ConfigError(`target \`${table}\`: column \`${name}\` cannot be a MongoDB field name as ferry writes it (no \`.\`, no leading \`$\`); rename it in a transform`)
    }
  }
}
