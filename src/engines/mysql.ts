import mysql from 'mysql2/promise'
import type { ConnectionOptions } from '../endpoint.js'
import { ConfigError, type FailureKind, SinkWriteError } from '../errors.js'
import { GeometryFormatError, mysqlFromEwkb } from '../geometry.js'
import type { ColumnInfo } from '../types.js'
import { jsonText, naiveTimestamp, utcTimestamp } from '../values.js'
import { redactUrl } from '../redact.js'
import { quoteWith, type SqlSpelling } from './sql/spelling.js'

/**
 * Options that make mysql2 hand values over exactly: BIGINT and DECIMAL as strings (narrowed to
 * numbers where safe by the decoders), dates and JSON as text, utf8mb4 throughout.
 */
const exact: mysql.ConnectionOptions = {
  charset: 'utf8mb4',
  supportBigNumbers: true,
  bigNumberStrings: true,
  decimalNumbers: false,
  dateStrings: true,
  jsonStrings: true,
  timezone: 'Z',
  multipleStatements: false,
}

// Strict: a value the column cannot hold is an error, never a silent truncation or a zero date.
// NO_AUTO_VALUE_ON_ZERO: a key 0 is stored as 0, not as the next AUTO_INCREMENT value.
const sessionSql =
  "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO', time_zone = '+00:00'"

/** mysql2 options from a `mysql://` / `mariadb://` URL or `{ engine: 'mysql', host, … }` options. */
export function mysqlOptions(connection: string | ConnectionOptions): mysql.ConnectionOptions {
  if (typeof connection !== 'string') {
    const { engine: _, ...options } = connection
    return { ...(options as mysql.ConnectionOptions), ...exact }
  }
  let url: URL
  try {
    url = new URL(connection)
  } catch {
    throw new ConfigError(`\`${redactUrl(connection)}\` is not a valid mysql URL (mysql://user:password@host:3306/database)`)
  }
  const database = decodeURIComponent(url.pathname.slice(1))
  if (!url.hostname) throw new ConfigError(`mysql URL \`${url.protocol}//…\` names no host`)
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 3306,
    user: decodeURIComponent(url.username) || 'root',
    ...(url.password && { password: decodeURIComponent(url.password) }),
    ...(database && { database }),
    ...exact,
  }
}

export interface MysqlSession {
  readonly conn: mysql.Connection
  /** MariaDB keeps JSON columns as LONGTEXT with a `json_valid` check; MySQL has a JSON type. */
  readonly mariadb: boolean
  readonly maxPacket: number
}

/** How ferry opens a MySQL session. */
export interface MysqlSessionOptions {
  /** Every transaction of the session is read-only: what sources and dry runs use, so that SQL in a filter cannot write. */
  readonly readOnly?: boolean
}

export async function connectMysql(options: mysql.ConnectionOptions, onBroken: () => void, session: MysqlSessionOptions = {}): Promise<MysqlSession> {
  const conn = await mysql.createConnection(options)
  // A connection lost while idle emits 'error'; without a listener the process would crash.
  conn.on('error', onBroken)
  try {
    await conn.query(sessionSql)
    if (session.readOnly) await conn.query('SET SESSION TRANSACTION READ ONLY')
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v, @@max_allowed_packet AS p')
    return { conn, mariadb: /mariadb/i.test(String(rows[0]!.v)), maxPacket: Number(rows[0]!.p) }
  } catch (err) {
    conn.destroy()
    throw err
  }
}

export const mysqlSpelling: SqlSpelling = {
  quote: (name) => quoteWith('`', name),
  param: () => '?',
  // Row-value comparisons do not bound an index scan in MariaDB: the expanded form does.
  rowValues: false,
  limit: (select, param) => `${select} LIMIT ${param}`,
}

export const quoteIdent = mysqlSpelling.quote

/** A value as MySQL takes it for its column: no Dates, objects or booleans left. */
export type Plain = string | number | bigint | Buffer | null

export function plainValue(value: unknown, column: ColumnInfo): Plain {
  if (value === null || value === undefined) return null
  if (column.type === 'json') return jsonText(value)
  if (column.type === 'geometry') return storedGeometry(value, column)
  switch (typeof value) {
    case 'boolean':
      return value ? 1 : 0
    case 'number':
      if (!Number.isFinite(value)) throw new SinkWriteError(`column \`${column.name}\` cannot hold ${value}`, 'rejected')
      return value
    case 'bigint':
      return value
    case 'string':
      // DATETIME has no zone: instants are stored in UTC, like the session's time_zone.
      if (column.type === 'timestamptz') return utcWallClock(value)
      if (column.type === 'timestamp') return plainTimestamp.test(value) ? value : (naiveTimestamp(value) ?? value)
      return value
  }
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  if (value instanceof Date) return column.type === 'date' ? value.toISOString().slice(0, 10) : naiveTimestamp(value)!
  return jsonText(value)
}

/** A geometry in MySQL's storage form, which a geometry column takes as it is (type and SRID kept). */
function storedGeometry(value: unknown, column: ColumnInfo): Buffer {
  const refuse = (why: string) =>
    new SinkWriteError(`column \`${column.name}\` takes geometries as EWKB or WKB bytes: ${why}`, 'rejected')
  if (!(value instanceof Uint8Array)) throw refuse(`got ${typeof value === 'object' ? 'an object' : `a ${typeof value}`}`)
  try {
    return mysqlFromEwkb(value)
  } catch (err) {
    throw err instanceof GeometryFormatError ? refuse(err.message) : err
  }
}

// What DATETIME takes as it is; anything else (a zone to drop) goes through naiveTimestamp.
const plainTimestamp = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d{1,6})?$/

/** The UTC wall-clock time of an instant (a text without a zone is taken as UTC). */
function utcWallClock(text: string): string {
  const iso = utcTimestamp(text)
  return iso ? iso.slice(0, -1).replace('T', ' ') : text
}

// https://mariadb.com/kb/en/mariadb-error-code-reference/ (1416: not a geometry, or not of the
// column's kind; 3643, MySQL 8: a geometry in another SRID than the column's)
const rejected = new Set([
  1048, 1062, 1118, 1153, 1263, 1264, 1265, 1292, 1366, 1406, 1416, 1451, 1452, 1690, 3140, 3643, 3819, 4025, 4078,
])
const transient = new Set([1040, 1053, 1205, 1213, 1317, 2006, 2013, 1927])
const networkCodes = /^(PROTOCOL_CONNECTION_LOST|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EHOSTUNREACH|PROTOCOL_SEQUENCE_TIMEOUT)$/

/** Server error numbers and client codes → what retrying can do. */
export function classifyMysqlError(err: unknown): FailureKind {
  if (err instanceof SinkWriteError) return err.kind
  const { errno, code, fatal } = err as { errno?: unknown; code?: unknown; fatal?: unknown }
  if (typeof code === 'string' && networkCodes.test(code)) return 'transient'
  // No server error number: the client lost or closed its connection.
  if (typeof errno !== 'number') return 'transient'
  if (rejected.has(errno)) return 'rejected'
  return transient.has(errno) || fatal === true ? 'transient' : 'fatal'
}

/** Whether the connection must be replaced before the next statement. */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof SinkWriteError) return false
  const { code, fatal, errno } = err as { code?: unknown; fatal?: unknown; errno?: unknown }
  return fatal === true || (typeof code === 'string' && networkCodes.test(code)) || errno === undefined
}
