import { Readable } from 'node:stream'
import type mysql from 'mysql2/promise'
import { type Plain, plainValue, quoteIdent } from '../../src/engines/mysql.js'
import { updatedColumns } from '../../src/engines/sql/upsert.js'
import { faultPoint } from '../../src/faults.js'
import type { ColumnInfo, Row } from '../../src/types.js'

// mysql_real_escape_string's set; valid while the session has no NO_BACKSLASH_ESCAPES.
const sqlSpecial = /[\0\n\r\\'"\x1a]/
const sqlSpecials = /[\0\n\r\\'"\x1a]/g
const sqlEscapes: Record<string, string> = { '\0': '\\0', '\n': '\\n', '\r': '\\r', '\\': '\\\\', "'": "\\'", '"': '\\"', '\x1a': '\\Z' }

export function sqlLiteral(value: Plain): string {
  if (value === null) return 'NULL'
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  if (Buffer.isBuffer(value)) return `X'${value.toString('hex')}'`
  return sqlSpecial.test(value) ? `'${value.replace(sqlSpecials, (c) => sqlEscapes[c]!)}'` : `'${value}'`
}

/**
 * Multi-row `INSERT … VALUES (…),(…)`, split into statements below `maxBytes` (the server's
 * max_allowed_packet bounds one statement). Upserts add `ON DUPLICATE KEY UPDATE`.
 */
export function insertStatements(
  table: string,
  columns: readonly ColumnInfo[],
  key: readonly string[],
  rows: readonly Row[],
  upsert: boolean,
  maxBytes: number,
): string[] {
  const head = `INSERT INTO ${quoteIdent(table)} (${columns.map((c) => quoteIdent(c.name)).join(', ')}) VALUES `
  const tail = upsert ? onDuplicate(columns, key) : ''
  const statements: string[] = []
  let values: string[] = []
  let size = 0
  const half = rows.length >> 1
  for (let i = 0; i < rows.length; i++) {
    if (i === half) faultPoint('sink-write')
    const row = rows[i]!
    const tuple = `(${columns.map((c) => sqlLiteral(plainValue(row[c.name], c))).join(',')})`
    if (values.length > 0 && size + tuple.length > maxBytes) {
      statements.push(head + values.join(',') + tail)
      values = []
      size = 0
    }
    values.push(tuple)
    size += tuple.length + 1
  }
  if (values.length > 0) statements.push(head + values.join(',') + tail)
  return statements
}

/** `VALUES(col)` rather than MySQL 8's row alias, which MariaDB does not have. */
function onDuplicate(columns: readonly ColumnInfo[], key: readonly string[]): string {
  const rest = updatedColumns(columns, key)
  // Updating the key to itself makes a duplicate a no-op when there is nothing else to update.
  const targets = rest.length ? rest : columns.filter((c) => key.includes(c.name))
  return ` ON DUPLICATE KEY UPDATE ${targets.map((c) => `${quoteIdent(c.name)} = VALUES(${quoteIdent(c.name)})`).join(', ')}`
}

// LOAD DATA's default field format: tab-separated, backslash escapes, \N for NULL.
const loadSpecial = /[\\\t\n\r\0]/
const loadSpecials = /[\\\t\n\r\0]/g
const loadEscapes: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' }

function loadField(value: Plain): string {
  if (value === null) return '\\N'
  if (typeof value === 'number' || typeof value === 'bigint') return String(value)
  // Bytes go as hex and are UNHEXed by the statement: raw bytes are not valid utf8mb4 text.
  if (Buffer.isBuffer(value)) return value.toString('hex')
  return loadSpecial.test(value) ? value.replace(loadSpecials, (c) => loadEscapes[c]!) : value
}

// Columns whose values are bytes: geometries go in MySQL's storage form, which is binary too.
const binary = (c: ColumnInfo) => c.type === 'bytes' || c.type === 'geometry'

/** `LOAD DATA LOCAL INFILE` and the stream of rows it reads. */
export function loadData(table: string, columns: readonly ColumnInfo[], rows: readonly Row[]): mysql.QueryOptions {
  const targets = columns.map((c, i) => (binary(c) ? `@v${i}` : quoteIdent(c.name)))
  const sets = columns.flatMap((c, i) => (binary(c) ? [`${quoteIdent(c.name)} = UNHEX(@v${i})`] : []))
  const sql =
    `LOAD DATA LOCAL INFILE 'ferry' INTO TABLE ${quoteIdent(table)} CHARACTER SET utf8mb4 ` +
    `FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (${targets.join(', ')})` +
    (sets.length ? ` SET ${sets.join(', ')}` : '')
  return { sql, infileStreamFactory: () => Readable.from(loadChunks(columns, rows)) }
}

function* loadChunks(columns: readonly ColumnInfo[], rows: readonly Row[]): Generator<Buffer> {
  const half = rows.length >> 1
  let chunk = ''
  for (let i = 0; i < rows.length; i++) {
    if (i === half) faultPoint('sink-write')
    const row = rows[i]!
    chunk += columns.map((c) => loadField(plainValue(row[c.name], c))).join('\t') + '\n'
    if (chunk.length >= 65_536) {
      yield Buffer.from(chunk)
      chunk = ''
    }
  }
  if (chunk) yield Buffer.from(chunk)
}
