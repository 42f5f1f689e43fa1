/**
 * Indexes as tables. An index ferry creates has an explicit mapping (`dynamic: strict`) and records
 * in its mapping's `_meta.ferry` the columns it was made for, with their logical types, lengths,
 * precisions and scales, and the key: readers decode by it, so that PostgreSQL → Elasticsearch →
 * PostgreSQL gives every type back (a `numeric(30,10)` stored as text, a `uuid`, a naive
 * `timestamp`). Another index is described from its mapping alone: `_id` and each top-level field.
 */
import { ConfigError } from '../../errors.js'
import type { ColumnInfo, LogicalType, TableSchema } from '../../types.js'
import { textLength } from '../../values.js'
import { type EsConnection, statusOf } from './elasticsearch-connection.js'

/** An index as a table, with what reads and writes need of its mapping. */
export interface EsIndex {
  readonly schema: TableSchema
  /** The top-level fields of the mapping with their Elasticsearch types. */
  readonly fields: ReadonlyMap<string, string>
  /** The mapping's `_meta`, whole (the user's keys too). */
  readonly meta: Readonly<Record<string, unknown>>
}

/** What `_meta.ferry` holds. */
interface FerryMeta {
  readonly version: 1
  readonly key: readonly string[]
  readonly columns: readonly ColumnInfo[]
}

/** The field every document has: its id, a keyword of at most 512 bytes. */
export const idField = '_id'

/** The index's mapping as a table; undefined when there is no such index. */
export async function describeIndex(connection: EsConnection, index: string): Promise<EsIndex | undefined> {
  let found: Record<string, { mappings?: Mapping }>
  try {
    found = (await connection.client.indices.getMapping({ index })) as Record<string, { mappings?: Mapping }>
  } catch (err) {
    if (statusOf(err) === 404) return undefined
    throw err
  }
  const names = Object.keys(found)
  if (names.length === 0) return undefined
  if (names.length > 1) {
    throw new ConfigError(`\`${index}\` names ${names.length} indexes in the ${connection.place} (${names.slice(0, 5).join(', ')}…), whose ids need not be unique together; read or write each index as its own table`)
  }
  const mappings = found[names[0]!]!.mappings ?? {}
  const properties = mappings.properties ?? {}
  const fields = new Map(Object.entries(properties).map(([name, p]) => [name, fieldType(p)]))
  const meta = mappings._meta ?? {}
  const ferry = meta.ferry as FerryMeta | undefined
  if (ferry?.version === 1 && Array.isArray(ferry.columns) && Array.isArray(ferry.key)) {
    const known = new Set(ferry.columns.map((c) => c.name))
    const others = [...fields].filter(([name]) => !known.has(name)).map(([name]) => columnOf(name, properties[name]!))
    const schema = { table: index, columns: [...ferry.columns, ...others], primaryKey: ferry.key, uniqueKeys: [ferry.key] }
    return { schema, fields, meta }
  }
  const id: ColumnInfo = { name: idField, nativeType: idField, type: 'text', nullable: false }
  const columns = [id, ...[...fields].filter(([, type]) => type !== 'alias').map(([name]) => columnOf(name, properties[name]!))]
  return { schema: { table: index, columns, primaryKey: [idField], uniqueKeys: [[idField]] }, fields, meta }
}

interface Field {
  readonly type?: string
  readonly format?: string
  readonly properties?: unknown
}

interface Mapping {
  readonly properties?: Record<string, Field>
  readonly _meta?: Record<string, unknown>
}

/** A field's type; an object field's mapping has `properties` and no type. */
function fieldType(field: Field): string {
  return field.type ?? 'object'
}

// Date formats whose values ferry reads as instants: ISO 8601 text or epoch milliseconds.
const isoFormats = /^(strict_)?(date_optional_time(_nanos)?|date_time|date|epoch_millis|basic_date_time)$/

/**
 * The column a field of an index ferry did not make reads as: what its `_source` values are
 * (Elasticsearch keeps a document as it was sent; the mapping says how it is indexed).
 */
function columnOf(name: string, field: Field): ColumnInfo {
  const type = fieldType(field)
  const column = (logical: LogicalType, extra: Partial<ColumnInfo> = {}): ColumnInfo => ({ name, nativeType: type, type: logical, nullable: true, ...extra })
  switch (type) {
    case 'keyword':
    case 'constant_keyword':
    case 'wildcard':
    case 'text':
    case 'match_only_text':
    case 'search_as_you_type':
    case 'ip':
    case 'version':
      return column('text')
    case 'long':
      return column('bigint')
    case 'integer':
    case 'short':
    case 'byte':
      return column('integer')
    case 'unsigned_long':
      return column('decimal', { precision: 20, scale: 0 })
    case 'double':
    case 'float':
    case 'half_float':
    case 'scaled_float':
      // `_source` holds the number as sent, which a double holds; the index may keep less.
      return column('float')
    case 'boolean':
      return column('boolean')
    case 'date':
    case 'date_nanos': {
      const formats = (field.format ?? 'strict_date_optional_time').split('||')
      if (!formats.every((f) => isoFormats.test(f))) return column('text')
      // `_source` keeps the digits sent, which `date` indexes to the millisecond.
      return column('timestamptz', type === 'date_nanos' ? { scale: 9 } : {})
    }
    case 'binary':
      return column('bytes')
    default:
      // Objects, nested documents, geo shapes, vectors…: the value as `_source` holds it.
      return column('json')
  }
}

/** A decimal of at most this many digits fits a `scaled_float` exactly (below 2^53 once scaled). */
const scaledDigits = 15
/** A text column of at most this many characters is a keyword; a longer one is full text. */
const keywordLength = 256

/** The mapping of one column in an index ferry creates. */
export function fieldFor(column: ColumnInfo, key: boolean): Record<string, unknown> {
  if (key) return column.type === 'integer' ? { type: 'integer' } : column.type === 'bigint' ? { type: 'long' } : { type: 'keyword' }
  switch (column.type) {
    case 'integer':
      return { type: 'integer' }
    case 'bigint':
      return { type: 'long' }
    case 'decimal':
      return decimalField(column)
    case 'float':
      return { type: column.precision !== undefined && column.precision <= 24 ? 'float' : 'double' }
    case 'boolean':
      return { type: 'boolean' }
    case 'text': {
      const length = textLength(column)
      if (length !== undefined && length <= keywordLength) return { type: 'keyword' }
      return { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: keywordLength } } }
    }
    case 'uuid':
      return { type: 'keyword' }
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return { type: 'date' }
    case 'json':
      // Kept in `_source` whole and as it is (any JSON value, any shape), not indexed.
      return { type: 'object', enabled: false }
    case 'bytes':
      return { type: 'binary' }
    case 'geometry':
      throw new ConfigError(`column \`${column.name}\` is a geometry, which ferry does not write to Elasticsearch (a geo_shape keeps no SRID)`)
  }
}

/**
 * Decimals: a `scaled_float` with a factor of 10^scale when it holds every value of the column
 * exactly (15 digits or fewer: scaled, below 2^53), a `long` for whole numbers of up to 18
 * digits; any other decimal (more digits, or no declared precision) a `keyword` holding its text,
 * which is exact but sorts and compares as text. Never a `double`, which would round.
 */
function decimalField(column: ColumnInfo): Record<string, unknown> {
  const { precision, scale = 0 } = column
  if (precision === undefined) return { type: 'keyword' }
  if (scale === 0 && precision <= 18) return { type: 'long' }
  if (precision <= scaledDigits && scale > 0) return { type: 'scaled_float', scaling_factor: 10 ** scale }
  return { type: 'keyword' }
}

/** The mapping of an index made for these columns, keyed on `key`, with `_meta.ferry` saying so. */
export function mappingFor(schema: TableSchema): Record<string, unknown> {
  const properties = Object.fromEntries(
    schema.columns.filter((c) => c.name !== idField).map((c) => [c.name, fieldFor(c, schema.primaryKey.includes(c.name))]),
  )
  const meta: FerryMeta = { version: 1, key: schema.primaryKey, columns: schema.columns.map(storedColumn) }
  return { dynamic: 'strict', properties, _meta: { ferry: meta } }
}

/** A column as `_meta.ferry` keeps it (no undefined members: the mapping is JSON). */
function storedColumn(c: ColumnInfo): ColumnInfo {
  return JSON.parse(JSON.stringify({ name: c.name, nativeType: c.nativeType, type: c.type, nullable: c.nullable, precision: c.precision, scale: c.scale })) as ColumnInfo
}

/** What a dry run shows a column becomes. */
export function fieldText(column: ColumnInfo, key: boolean): string {
  if (column.name === idField) return '_id'
  const field = fieldFor(column, key)
  if (field.type === 'scaled_float') return `scaled_float (scaling_factor ${String(field.scaling_factor)})`
  if (field.type === 'text') return 'text (+ keyword)'
  if (field.enabled === false) return 'object (kept, not indexed)'
  return String(field.type)
}
