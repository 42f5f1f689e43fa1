import { existsSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { ConnectionOptions } from '../endpoint.js'
import { ConfigError, type FailureKind, SinkWriteError } from '../errors.js'
import { sameSet } from '../keys.js'
import type { ColumnInfo, LogicalType, Row, TableSchema } from '../types.js'
import { jsonText, narrowInteger, parseJsonText, rowDecoderWith, textLength } from '../values.js'
import type { Catalog } from '../catalog.js'
import { sqliteCatalog } from './sqlite-catalog.js'
import { SqliteReadThread } from './sqlite-read-thread.js'
import type { SqlConnection } from './sql/sql-source.js'
import { quoteWith, type SqlSpelling } from './sql/spelling.js'

/** `sqlite:data/app.db`, `sqlite:///abs/app.db`, `sqlite::memory:` or `{ engine, filename }`. */
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

export const sqliteSpelling: SqlSpelling = {
  quote: (name) => quoteWith('"', name),
  param: () => '?',
  rowValues: true,
  limit: (select, param) => `${select} LIMIT ${param}`,
}

export const quoteIdent = sqliteSpelling.quote

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
  if (column.type === 'geometry') {
    // Refused earlier with the table's name (checkGeometry).
    throw new ConfigError(`column \`${column.name}\` is a geometry, which SQLite has no type for`)
  }
  const map: Record<Exclude<LogicalType, 'geometry'>, string> = {
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

/**
 * The table's columns and keys. A key column may hold NULL unless declared NOT NULL, except the
 * `INTEGER PRIMARY KEY` that is the rowid: SQLite lets other primary keys hold NULLs.
 */
export function describeTable(db: Database.Database, table: string): TableSchema | undefined {
  const info = db.prepare(`PRAGMA table_info(${quoteIdent(table)})`).all() as TableInfoRow[]
  if (info.length === 0) return undefined
  const primaryKey = info
    .filter((c) => c.pk > 0)
    .sort((a, b) => a.pk - b.pk)
    .map((c) => c.name)
  const rowid = primaryKey.length === 1 ? info.find((c) => c.pk > 0 && c.type.toUpperCase() === 'INTEGER')?.name : undefined
  const columns = info.map((c) => ({
    name: c.name,
    nativeType: c.type,
    nullable: c.notnull === 0 && c.name !== rowid,
    ...logicalType(c.type),
  }))
  return { table, columns, primaryKey, uniqueKeys: uniqueKeys(db, table, primaryKey) }
}

/** The primary key (which may be the rowid, with no index) and every full unique index on columns. */
function uniqueKeys(db: Database.Database, table: string, primaryKey: readonly string[]): string[][] {
  const indexes = db.prepare(`PRAGMA index_list(${quoteIdent(table)})`).all() as { name: string; unique: number; partial: number }[]
  const keys = indexes
    .filter((i) => i.unique === 1 && i.partial === 0)
    .map((i) => (db.prepare(`PRAGMA index_info(${quoteIdent(i.name)})`).all() as { name: string | null }[]).map((c) => c.name))
    .filter((names): names is string[] => names.every((n) => n !== null))
  return primaryKey.length && !keys.some((k) => sameSet(k, primaryKey)) ? [[...primaryKey], ...keys] : keys
}

/** Values as SQLite can bind them: booleans as 0/1, dates as ISO text, JSON as text. */
export function encodeValue(value: unknown, column?: Pick<ColumnInfo, 'type' | 'name'>): unknown {
  // Parsed JSON: a string in a JSON column is a JSON string value, stored as JSON text.
  if (column?.type === 'json' && value !== null && value !== undefined) return jsonText(value)
  switch (typeof value) {
    case 'number':
      // SQLite stores NaN as NULL without a word.
      if (Number.isNaN(value)) throw new SinkWriteError(`column \`${column?.name ?? '?'}\` cannot hold NaN`, 'rejected')
      return value
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
 * Turns raw values into the forms every source hands over (src/values.ts): integers narrowed,
 * booleans from 0/1, decimals as text, JSON parsed.
 */
export const rowDecoder = (schema: TableSchema): ((row: Row) => void) => rowDecoderWith(schema, decoders)

const narrow = (v: unknown): unknown => (typeof v === 'bigint' ? narrowInteger(v) : v)
const decoders: Partial<Record<LogicalType, (v: unknown) => unknown>> = {
  integer: narrow,
  bigint: narrow,
  boolean: (v) => (v === 1n || v === 0n || v === 1 || v === 0 ? v == 1 : v),
  decimal: (v) => (typeof v === 'number' || typeof v === 'bigint' ? String(v) : v),
  json: (v) => (typeof v === 'string' ? parseJsonText(v) : typeof v === 'bigint' ? narrowInteger(v) : v),
  float: narrow,
  text: narrow,
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

/**
 * A SQLite file through better-sqlite3, integers read exactly (as bigint beyond 2^53). A source
 * opens it read-only and it must exist; a sink creates it on its first write, so that a dry run
 * leaves no file behind.
 */
export class SqliteConnection implements SqlConnection {
  readonly engine = 'sqlite'
  readonly spelling = sqliteSpelling
  #db?: Database.Database
  /** A source's reads of rows, on a thread of their own (sqlite-read-thread.ts). */
  readonly #reads?: SqliteReadThread
  readonly cursor?: (sql: string, params: readonly unknown[], pageRows: () => number) => AsyncIterable<Row[]>

  constructor(
    readonly filename: string,
    /** `foreignKeys: false` turns enforcement off (better-sqlite3 turns it on): a whole-database copy checks them after its load. */
    readonly options: { readonly writable: boolean; readonly foreignKeys?: boolean },
  ) {
    if (!options.writable && filename !== ':memory:') {
      const reads = (this.#reads = new SqliteReadThread(filename))
      this.cursor = (sql, params, pageRows) => reads.read(sql, params, pageRows)
    }
  }

  get place(): string {
    return `sqlite file \`${this.filename}\``
  }

  async open(): Promise<void> {
    if (!this.options.writable) this.#db = new Database(this.filename, { readonly: true, fileMustExist: true })
    else if (this.filename === ':memory:' || existsSync(this.filename)) this.#db = this.#connect()
  }

  #connect(): Database.Database {
    const db = new Database(this.filename)
    db.pragma('busy_timeout = 10000')
    if (this.options.foreignKeys === false) db.pragma('foreign_keys = OFF')
    return db
  }

  /** Whether the file exists yet (a sink's file is created by its first write). */
  get opened(): boolean {
    return this.#db !== undefined
  }

  /** The database, created now if it does not exist yet. */
  get db(): Database.Database {
    if (!this.#db) {
      if (!this.options.writable) throw new Error('SqliteConnection used before open()')
      mkdirSync(dirname(this.filename), { recursive: true })
      this.#db = this.#connect()
    }
    return this.#db
  }

  async query(sql: string, params: readonly unknown[]): Promise<Row[]> {
    return this.db.prepare(sql).safeIntegers(true).all(...params) as Row[]
  }

  decoder(schema: TableSchema): (row: Row) => void {
    return rowDecoder(schema)
  }

  param(value: unknown, column: ColumnInfo): unknown {
    return encodeValue(value, column)
  }

  async describe(table: string): Promise<TableSchema | undefined> {
    return this.#db && describeTable(this.#db, table)
  }

  async catalog(): Promise<Catalog> {
    return sqliteCatalog(this.#db, describeTable)
  }

  async close(): Promise<void> {
    this.#db?.close()
    this.#db = undefined
    await this.#reads?.close()
  }
}
