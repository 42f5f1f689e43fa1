import type { ConnectionOptions } from '../endpoint.js'
import { ConfigError, type FailureKind, SinkWriteError } from '../errors.js'
import { redactUrl } from '../redact.js'
import type { SqlSpelling } from './sql/spelling.js'

/** The options of `mssql`'s ConnectionPool that ferry sets or reads (the driver takes more). */
export interface MssqlConfig {
  readonly server: string
  readonly port?: number
  readonly user?: string
  readonly password?: string
  readonly database?: string
  readonly domain?: string
  readonly connectionTimeout?: number
  readonly requestTimeout?: number
  readonly options: Readonly<Record<string, unknown>>
  readonly pool: { readonly min: number; readonly max: number; readonly idleTimeoutMillis: number }
  readonly validateConnection: 'socket'
  readonly [option: string]: unknown
}

/**
 * Session options every connection gets: instants in UTC, GUIDs in lower case, and every error
 * rolling the transaction back (XACT_ABORT), so that a failed batch leaves nothing behind.
 */
const sessionOptions = { useUTC: true, lowercaseGuids: true, abortTransactionOnError: true, enableArithAbort: true }

/**
 * One connection per source or sink (each worker opens its own): a pool of one that never lets it
 * idle out, checked by its socket rather than a `SELECT 1` before every request. No request
 * timeout unless asked for: a bulk load or a partition query on a large table may take long.
 */
const poolOptions = { pool: { min: 0, max: 1, idleTimeoutMillis: 2 ** 31 - 1 }, validateConnection: 'socket' as const }

/** URL parameters ferry passes on, and how each is read. */
const urlParameters: Record<string, (value: string, name: string) => [string, unknown]> = {
  encrypt: (v, n) => ['options.encrypt', flag(v, n)],
  trustServerCertificate: (v, n) => ['options.trustServerCertificate', flag(v, n)],
  instanceName: (v) => ['options.instanceName', v],
  appName: (v) => ['options.appName', v],
  connectTimeout: (v, n) => ['connectionTimeout', milliseconds(v, n)],
  requestTimeout: (v, n) => ['requestTimeout', milliseconds(v, n)],
  domain: (v) => ['domain', v],
}

/**
 * The mssql configuration from `mssql://user:password@host:1433/database?encrypt=true` (or
 * `sqlserver://…`), or from `{ engine: 'mssql', server, … }` options passed on to mssql as they are.
 */
export function mssqlConfig(connection: string | ConnectionOptions): MssqlConfig {
  if (typeof connection !== 'string') {
    const { engine: _, options, ...rest } = connection
    if (typeof rest.server !== 'string') throw new ConfigError('mssql connection options need a `server`')
    return { requestTimeout: 0, ...rest, ...poolOptions, server: rest.server, options: { ...(options as object), ...sessionOptions } }
  }
  const url = parseUrl(connection)
  const config: Record<string, unknown> = { requestTimeout: 0 }
  const options: Record<string, unknown> = {}
  for (const [name, value] of url.searchParams) {
    const read = urlParameters[name]
    if (!read) {
      throw new ConfigError(`mssql URL parameter \`${name}\` is not known; known: ${Object.keys(urlParameters).join(', ')}`)
    }
    const [key, parsed] = read(value, name)
    if (key.startsWith('options.')) options[key.slice(8)] = parsed
    else config[key] = parsed
  }
  const database = decodeURIComponent(url.pathname.slice(1))
  return {
    ...config,
    ...poolOptions,
    server: decodeURIComponent(url.hostname).replace(/^\[|\]$/g, ''),
    ...(url.port && { port: Number(url.port) }),
    ...(url.username && { user: decodeURIComponent(url.username) }),
    ...(url.password && { password: decodeURIComponent(url.password) }),
    ...(database && { database }),
    options: { ...options, ...sessionOptions },
  }
}

function parseUrl(connection: string): URL {
  const example = 'mssql://user:password@host:1433/database'
  let url: URL
  try {
    url = new URL(connection)
  } catch {
    throw new ConfigError(`\`${redactUrl(connection)}\` is not a valid SQL Server URL (${example})`)
  }
  if (!url.hostname) throw new ConfigError(`SQL Server URL \`${redactUrl(connection)}\` names no host (${example})`)
  if (url.pathname.slice(1).includes('/')) {
    throw new ConfigError(`SQL Server URL \`${redactUrl(connection)}\`: the path is the database (${example}); give an instance as \`?instanceName=\``)
  }
  return url
}

function flag(value: string, name: string): boolean {
  if (value === 'true' || value === 'false') return value === 'true'
  throw new ConfigError(`mssql URL parameter \`${name}\` must be \`true\` or \`false\` (got \`${value}\`)`)
}

function milliseconds(value: string, name: string): number {
  if (/^\d+$/.test(value)) return Number(value)
  throw new ConfigError(`mssql URL parameter \`${name}\` must be a number of milliseconds (got \`${value}\`)`)
}

/** `[name]` with `]` doubled: the one quoting SQL Server reads the same whatever QUOTED_IDENTIFIER says. */
export function quoteIdent(name: string): string {
  if (name.includes('\0')) throw new ConfigError(`identifier ${JSON.stringify(name)} contains a NUL`)
  return `[${name.replaceAll(']', ']]')}]`
}

export const mssqlSpelling: SqlSpelling = {
  quote: quoteIdent,
  param: (n) => `@p${n}`,
  // SQL Server has no row-value comparisons: (a, b) > (@p1, @p2) is a syntax error.
  rowValues: false,
  limit: (select, param) => {
    if (!select.startsWith('SELECT ')) throw new Error(`cannot limit a statement that is not a SELECT: ${select.slice(0, 40)}`)
    return `SELECT TOP (${param}) ${select.slice(7)}`
  },
}

// https://learn.microsoft.com/sql/relational-databases/errors-events/database-engine-events-and-errors
// A row's fault: duplicate key (2627, 2601), NULL into NOT NULL (515), a constraint (547), data
// truncated (8152, 2628), arithmetic overflow and conversions (220, 232, 241, 242, 244, 245, 248,
// 8114, 8115, 8169), JSON (13609), bulk-load data the column cannot take (4815, 4816, 4819, 4863,
// 4864, 4867), a MERGE or UPDATE meeting one target row twice (8672).
const rejected = new Set([
  515, 547, 2601, 2627, 2628, 8152, 220, 232, 241, 242, 244, 245, 248, 8114, 8115, 8169, 13609, 4815, 4816, 4819, 4863,
  4864, 4867, 8672,
])
// Deadlock victim (1205), lock timeout (1222), snapshot conflict (3960), memory or resources
// (701, 802, 8645, 8651), and the transient errors of Azure SQL (40197, 40501, 40613, 49918-49920, 4221).
const transient = new Set([1205, 1222, 3960, 701, 802, 8645, 8651, 40197, 40501, 40613, 49918, 49919, 49920, 4221, 233, 10053, 10054, 10060, 64])
// tedious' and mssql's own codes for a connection that failed, closed, or timed out.
const connectionCodes = new Set(['ESOCKET', 'ECONNCLOSED', 'ECLOSE', 'ETIMEOUT', 'ENOTOPEN', 'EINSTLOOKUP', 'ENOCONN', 'EINVALIDSTATE', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE'])

/** The server error numbers an error carries: its own, its wrapped original's, or those of an AggregateError. */
function errorNumbers(err: unknown): number[] {
  if (err === null || typeof err !== 'object') return []
  const e = err as { number?: unknown; originalError?: unknown; errors?: unknown }
  if (typeof e.number === 'number') return [e.number]
  if (Array.isArray(e.errors)) return e.errors.flatMap(errorNumbers)
  return e.originalError ? errorNumbers(e.originalError) : []
}

/** Server error numbers and client codes (tedious or mssql errors) → what retrying can do. */
export function classifyMssqlError(err: unknown): FailureKind {
  if (err instanceof SinkWriteError) return err.kind
  const numbers = errorNumbers(err)
  // Several errors (tedious' AggregateError): the first says what failed, the rest follow from it.
  const first = numbers.find((n) => n !== 3621)
  if (first !== undefined) {
    if (rejected.has(first)) return 'rejected'
    return transient.has(first) ? 'transient' : 'fatal'
  }
  if (isConnectionError(err)) return 'transient'
  // A value the driver cannot encode (tedious' validate throws a TypeError): the row's fault.
  if (err instanceof TypeError || err instanceof RangeError) return 'rejected'
  return typeof (err as { code?: unknown }).code === 'string' ? 'fatal' : 'transient'
}

/** Whether the connection is gone, so that the next request must open a new one. */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof SinkWriteError || err === null || typeof err !== 'object') return false
  const e = err as { code?: unknown; name?: unknown; originalError?: unknown }
  if (typeof e.code === 'string' && connectionCodes.has(e.code)) return true
  if (e.name === 'ConnectionError') return true
  return e.originalError !== undefined && isConnectionError(e.originalError)
}
