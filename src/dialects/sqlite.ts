import type Database from 'better-sqlite3'
import { createTableWith, keyRangeWhere, maxKeyQuery, quoteWith, type SqlSpelling } from './sql.js'
import type { ConnectionOptions } from '../config.js'
import { ConfigError, type FailureKind, SinkWriteError } from '../errors.js'
import { keyId, narrowInteger } from '../keys.js'
import type { ColumnInfo, Key, KeyRange, LogicalType, Row, TableSchema } from '../types.js'
import { jsonText, parseJsonText, rowDecoderWith, textLength } from './values.js'

/** `sqlite:data/app.db`, `sqlite:///abs/app.db`, `sqlite::memory:` or `{ dialect, filename }`. */
export function sqliteFilename(connection: string | ConnectionOptions): string {
  if (typeof connection !== 'string') {
    if (typeof connection.filename !== 'string') {
      throw new ConfigError('sqlite connection options need a `filename`')
    }
    return connection.filename
  }
  const rest = connection.replace(/^sqlite:/i, '')
  const filename = rest.startsWith('//') ? rest.slice(2) : rest
  if (filename === '') throw new ConfigError(`sqlite URL \`${connection}\` names no file`)
  return decodeURIComponent(filename)
}

const sql: SqlSpelling = { quote: '"', param: () => '?' }

export const quoteIdent = (name: string): string => quoteWith('"', name)

/** Declared type → logical type, following SQLite's own affinity rules where they decide. */
export function logicalType(declared: string): Pick<ColumnInfo, 'type' | 'precision' | 'scale'> {
  const t = declared.toUpperCase()
  const numbers = /\((\d+)\s*(?:,\s*(\d+))?\)/.exec(t)
  if (t.includes('DECIMAL') || t.includes('NUMERIC')) {
    const precision = numbers ? Number(numbers[1]) : undefined
    const scale = numbers?.[2] !== undefined ? Number(numbers[2]) : undefined
    return { type: 'decimal', ...(precision && { precision }), ...(scale !== undefined && { scale }) }
  }
  // Every integer SQLite stores is 64-bit; only names that say smaller map to 32-bit integers.
  if (/^(INT|INT2|INT4|SMALLINT|TINYINT|MEDIUMINT)\b/.test(t.trim())) return { type: 'integer' }
  if (t.includes('INT')) return { type: 'bigint' }
  if (t.includes('BOOL')) return { type: 'boolean' }
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return { type: 'float' }
  if (t.includes('TIMESTAMPTZ') || t.includes('WITH TIME ZONE')) return { type: 'timestamptz' }
  if (t.includes('DATETIME') || t.includes('TIMESTAMP')) return { type: 'timestamp' }
  if (t.includes('DATE')) return { type: 'date' }
  if (t.includes('JSON')) return { type: 'json' }
  if (t.includes('BLOB') || t.includes('BYTEA') || t.includes('BINARY')) return { type: 'bytes' }
  if (t.includes('UUID')) return { type: 'uuid' }
  return { type: 'text' }
}

/**
 * Logical type → declared type. SQLite has no exact decimal: a NUMERIC column would round
 * `12345678901234567890.1234567890` to 15 digits, so decimals are declared `DECIMAL_TEXT(p,s)`,
 * which SQLite stores as text (the name contains TEXT) and which `logicalType` reads back as decimal.
 */
export function declaredType(column: ColumnInfo): string {
  const map: Record<LogicalType, string> = {
    integer: 'INT',
    // INTEGER, SQLite's 64-bit integer: a single-column key declared so is the rowid itself.
    bigint: 'INTEGER',
    decimal: 'DECIMAL_TEXT',
    float: 'REAL',
    boolean: 'BOOLEAN',
    text: 'TEXT',
    date: 'DATE',
    timestamp: 'TIMESTAMP',
    timestamptz: 'TIMESTAMPTZ',
    json: 'JSON',
    bytes: 'BLOB',
    uuid: 'UUID',
  }
  const base = map[column.type]
  const length = textLength(column)
  if (length !== undefined) return `VARCHAR(${length})`
  if (column.type !== 'decimal' || column.precision === undefined) return base
  return `${base}(${column.precision},${column.scale ?? 0})`
}

interface TableInfoRow {
  name: string
  type: string
  notnull: number
  pk: number
}

export function describeTable(db: Database.Database, table: string): TableSchema | undefined {
  const info = db.prepare(`PRAGMA table_info(${quoteIdent(table)})`).all() as TableInfoRow[]
  if (info.length === 0) return undefined
  const columns = info.map((c) => ({
    name: c.name,
    nativeType: c.type,
    nullable: c.notnull === 0 && c.pk === 0,
    ...logicalType(c.type),
  }))
  const primaryKey = info
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name)
  return { table, columns, primaryKey }
}

export const createTableSql = (table: string, schema: TableSchema): string =>
  createTableWith(sql, table, schema, declaredType)

/** `WHERE` clause and parameters for a user filter ANDed with a key range. */
export const whereClause = (key: string, range: KeyRange, where?: string): [string, Key[]] =>
  keyRangeWhere(sql, key, range, where)

export function maxKey(
  db: Database.Database,
  table: string,
  key: string,
  range: KeyRange,
  where?: string,
): Key | undefined {
  const [query, params] = maxKeyQuery(sql, table, key, range, where)
  const row = db.prepare(query).safeIntegers(true).get(...params) as { k: Key } | undefined
  return row === undefined ? undefined : decodeKey(row.k)
}

export function existingKeys(
  db: Database.Database,
  table: string,
  key: string,
  keys: readonly Key[],
): Set<string> {
  const found = new Set<string>()
  const perQuery = 500
  for (let i = 0; i < keys.length; i += perQuery) {
    const slice = keys.slice(i, i + perQuery)
    const sql = `SELECT ${quoteIdent(key)} AS k FROM ${quoteIdent(table)} WHERE ${quoteIdent(key)} IN (${slice.map(() => '?').join(',')})`
    for (const row of db.prepare(sql).safeIntegers(true).all(...slice) as { k: Key }[]) {
      found.add(keyId(decodeKey(row.k)))
    }
  }
  return found
}

function decodeKey(value: Key): Key {
  return typeof value === 'bigint' ? narrowInteger(value) : value
}

/** Values as SQLite can bind them: booleans as 0/1, dates as ISO text, JSON as text. */
export function encodeValue(value: unknown, column?: Pick<ColumnInfo, 'type'>): unknown {
  // Parsed JSON: a string in a JSON column is a JSON string value, stored as JSON text.
  if (column?.type === 'json' && value !== null && value !== undefined) return jsonText(value)
  switch (typeof value) {
    case 'boolean':
      return value ? 1 : 0
    case 'undefined':
      return null
    case 'object':
      if (value === null || Buffer.isBuffer(value)) return value
      if (value instanceof Date) return column?.type === 'date' ? value.toISOString().slice(0, 10) : value.toISOString()
      if (value instanceof Uint8Array) return Buffer.from(value)
      return jsonText(value)
    default:
      return value
  }
}

/**
 * Turns raw values into the forms every source hands over (src/dialects/values.ts): integers
 * narrowed, booleans from 0/1, decimals as text, JSON parsed.
 */
export const rowDecoder = (schema: TableSchema): ((row: Row) => void) => rowDecoderWith(schema, decoders)

const narrow = (v: unknown): unknown => (typeof v === 'bigint' ? narrowInteger(v) : v)
const decoders: Partial<Record<LogicalType, (v: unknown) => unknown>> = {
  integer: narrow,
  bigint: narrow,
  boolean: (v) => (v === 1n || v === 0n || v === 1 || v === 0 ? v == 1 : v),
  decimal: (v) => (typeof v === 'number' || typeof v === 'bigint' ? String(v) : v),
  json: (v) => (typeof v === 'string' ? parseJsonText(v) : typeof v === 'bigint' ? narrowInteger(v) : v),
}

export function classifySqliteError(err: unknown): FailureKind {
  if (err instanceof SinkWriteError) return err.kind
  // better-sqlite3 throws TypeError/RangeError for values it cannot bind (objects, huge bigints).
  if (err instanceof TypeError || err instanceof RangeError) return 'rejected'
  const code = (err as { code?: unknown }).code
  if (typeof code !== 'string') return 'transient'
  if (/^SQLITE_(CONSTRAINT|MISMATCH|TOOBIG|RANGE)/.test(code)) return 'rejected'
  if (/^SQLITE_(BUSY|LOCKED|IOERR|PROTOCOL)/.test(code)) return 'transient'
  return 'fatal'
}
