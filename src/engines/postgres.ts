import pg from 'pg'
import Cursor from 'pg-cursor'
import type { ConnectionOptions } from '../endpoint.js'
import { ConfigError, ConnectionError, type FailureKind, messageOf, SinkWriteError } from '../errors.js'
import type { ColumnInfo, LogicalType, Row, TableSchema } from '../types.js'
import { narrowInteger, textLength, utcTimestamp } from '../values.js'
import type { SqlConnection } from './sql/sql-source.js'
import type { Catalog } from '../catalog.js'
import { postgresCatalog } from './postgres-catalog.js'
import { quoteWith, type SqlSpelling } from './sql/spelling.js'

const identity = (text: string): string => text

// Text-format parsers by type OID (pg_type.oid). Types not listed arrive as the server's text, so
// nothing is rounded (int8, numeric) or shifted into the machine's time zone (date, timestamp).
const parsers = new Map<number, (text: string) => unknown>([
  [16, (t) => t === 't'],
  [17, (t) => Buffer.from(t.slice(2), 'hex')],
  [20, (t) => narrowInteger(BigInt(t))],
  [21, Number],
  [23, Number],
  [26, Number],
  [114, JSON.parse],
  [700, Number],
  [701, Number],
  [1184, (t) => utcTimestamp(t) ?? t],
  [3802, JSON.parse],
])

/** Per-client parsers (never pg's global ones), so other code using pg is left alone. */
export const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    format === 'binary' ? identity : (parsers.get(oid) ?? identity)) as pg.CustomTypesConfig['getTypeParser'],
}

// Session settings the parsers above rely on: UTC output for timestamptz, ISO dates, hex bytea.
const sessionOptions = '-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=iso_8601 -c bytea_output=hex -c extra_float_digits=1'

/** How ferry opens a PostgreSQL session. */
export interface PgSessionOptions {
  /**
   * Every transaction of the session is read-only (`default_transaction_read_only=on`): what
   * sources and dry runs use, so that SQL in a filter cannot write.
   */
  readonly readOnly?: boolean
}

/** What ferry waits for a connection by default, as mysql2 does; libpq's `connect_timeout` overrides it. */
const defaultConnectTimeoutMs = 10_000
/**
 * TCP keepalive from 30 s of silence: a server that vanished (host down, cable cut) is noticed by
 * the kernel, while a long statement that sends nothing (a COPY, a CREATE INDEX) is not cut.
 */
const keepAliveDelayMs = 30_000

/**
 * A pg client config from a `postgres://` URL or `{ engine: 'postgres', host, … }` options: ferry's
 * session settings, a connect timeout (`?connect_timeout=` seconds in a URL, or
 * `connectionTimeoutMillis`; 0 waits forever, as libpq) and TCP keepalive.
 */
export function pgConfig(connection: string | ConnectionOptions, session: PgSessionOptions = {}): pg.ClientConfig {
  const base: pg.ClientConfig = typeof connection === 'string' ? urlConfig(connection) : (({ engine: _, ...options }) => options as pg.ClientConfig)(connection)
  const readOnly = session.readOnly ? ' -c default_transaction_read_only=on' : ''
  const options = [base.options, sessionOptions + readOnly].filter(Boolean).join(' ')
  return {
    connectionTimeoutMillis: defaultConnectTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: keepAliveDelayMs,
    ...base,
    options,
    types: pgTypes,
  }
}

/**
 * The URL without its own `?options=-c search_path=…`, which pg would let override ours (the
 * session settings and read-only mode), carried in `options` instead; `connect_timeout` (seconds,
 * libpq's name) becomes pg's `connectionTimeoutMillis`, which is all pg's JavaScript client reads.
 */
function urlConfig(connection: string): pg.ClientConfig {
  let url: URL
  try {
    url = new URL(connection)
  } catch {
    return { connectionString: connection }
  }
  const options = url.searchParams.get('options') ?? undefined
  const timeout = url.searchParams.get('connect_timeout')
  if (options === undefined && timeout === null) return { connectionString: connection }
  url.searchParams.delete('options')
  url.searchParams.delete('connect_timeout')
  const seconds = timeout === null ? undefined : Number(timeout)
  if (seconds !== undefined && !Number.isFinite(seconds)) throw new ConfigError(`postgres URL parameter \`connect_timeout\` must be a number of seconds (got ${JSON.stringify(timeout)})`)
  return {
    connectionString: url.toString(),
    ...(options !== undefined && { options }),
    ...(seconds !== undefined && { connectionTimeoutMillis: Math.max(0, seconds * 1000) }),
  }
}

export const pgSpelling: SqlSpelling = {
  quote: (name) => quoteWith('"', name),
  param: (n) => `$${n}`,
  rowValues: true,
  limit: (select, param) => `${select} LIMIT ${param}`,
}

export const quoteIdent = pgSpelling.quote

const logicalTypes: Record<string, LogicalType> = {
  int2: 'integer',
  int4: 'integer',
  int8: 'bigint',
  numeric: 'decimal',
  float4: 'float',
  float8: 'float',
  bool: 'boolean',
  date: 'date',
  timestamp: 'timestamp',
  timestamptz: 'timestamptz',
  json: 'json',
  jsonb: 'json',
  bytea: 'bytes',
  uuid: 'uuid',
}

interface CatalogColumn {
  name: string
  native: string
  base: string
  notnull: boolean
  precision: number | null
  scale: number | null
  pk: number | null
}

// One catalog query: columns in order, the base type (and typmod) of domains, numeric precision
// and scale from the typmod, the primary key.
const describeSql = `
SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS native,
       COALESCE(bt.typname, t.typname) AS base, a.attnotnull AS notnull,
       CASE WHEN COALESCE(bt.oid, t.oid) = 1700 AND m.mod >= 4 THEN ((m.mod - 4) >> 16) & 65535 END AS precision,
       CASE WHEN COALESCE(bt.oid, t.oid) = 1700 AND m.mod >= 4 THEN (m.mod - 4) & 65535 END AS scale,
       array_position(i.indkey::int2[], a.attnum) AS pk
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
CROSS JOIN LATERAL (SELECT CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS mod) m
LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
WHERE c.relname = $1 AND n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
ORDER BY a.attnum`

/** The table in the current schema, or undefined when there is none of that name. */
export async function describeTable(client: pg.ClientBase, table: string): Promise<TableSchema | undefined> {
  const { rows } = await client.query<CatalogColumn>(describeSql, [table])
  if (rows.length === 0) return undefined
  const columns = rows.map(
    (c): ColumnInfo => ({
      name: c.name,
      nativeType: c.native,
      type: logicalTypes[c.base] ?? 'text',
      nullable: !c.notnull,
      ...(c.precision !== null && { precision: c.precision }),
      ...(c.scale !== null && { scale: c.scale }),
    }),
  )
  const primaryKey = rows
    .filter((c) => c.pk !== null)
    .sort((a, b) => a.pk! - b.pk!)
    .map((c) => c.name)
  const { rows: unique } = await client.query<{ columns: string[] }>(uniqueKeysSql, [table])
  return { table, columns, primaryKey, uniqueKeys: unique.map((u) => u.columns) }
}

// Unique indexes over plain columns (no expression, no predicate): the primary key, unique
// constraints and unique indexes, each a set of columns no two rows share. Only key columns
// count: INCLUDE columns (past indnkeyatts) are carried, not unique.
const uniqueKeysSql = `
SELECT json_agg(a.attname ORDER BY k.ord) AS columns
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) WITH ORDINALITY AS k(attnum, ord)
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
WHERE c.relname = $1 AND n.nspname = current_schema() AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
GROUP BY i.indexrelid, i.indisprimary
ORDER BY i.indisprimary DESC, i.indexrelid`

/** Logical type → PostgreSQL type; character lengths and decimal precision carry over. */
export function pgType(column: ColumnInfo): string {
  switch (column.type) {
    case 'decimal':
      // numeric allows 1000 digits; a wider declaration keeps its values without a limit.
      if (column.precision === undefined || column.precision > 1000) return 'numeric'
      return `numeric(${column.precision},${Math.min(column.scale ?? 0, column.precision)})`
    case 'text': {
      const length = textLength(column)
      // varchar, never char(n): char pads with spaces, so values would not come back as they went.
      return length !== undefined && length <= 10_485_760 ? `varchar(${length})` : 'text'
    }
    case 'integer':
      return 'integer'
    case 'bigint':
      return 'bigint'
    case 'float':
      return 'double precision'
    case 'boolean':
      return 'boolean'
    case 'date':
      return 'date'
    case 'timestamp':
      return 'timestamp'
    case 'timestamptz':
      return 'timestamptz'
    case 'json':
      return 'jsonb'
    case 'bytes':
      return 'bytea'
    case 'uuid':
      return 'uuid'
    case 'geometry':
      // Refused earlier with the table's name (checkGeometry); PostGIS is not supported yet.
      throw new ConfigError(`column \`${column.name}\` is a geometry, which PostgreSQL without PostGIS has no type for`)
  }
}


const transientCodes = new Set(['40001', '40P01', '55P03', '57014', '57P01', '57P02', '57P03'])
const networkCodes = /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)$/

/** SQLSTATE classes → what retrying can do; see https://www.postgresql.org/docs/current/errcodes-appendix.html */
export function classifyPgError(err: unknown): FailureKind {
  if (err instanceof SinkWriteError) return err.kind
  const code = (err as { code?: unknown }).code
  if (typeof code !== 'string') return 'transient'
  if (networkCodes.test(code)) return 'transient'
  if (code.length !== 5) return 'fatal'
  if (transientCodes.has(code)) return 'transient'
  const cls = code.slice(0, 2)
  if (cls === '08' || cls === '53') return 'transient'
  // 21 cardinality, 22 data exception, 23 integrity, 54 row too large for an index: one row's fault.
  if (cls === '21' || cls === '22' || cls === '23' || cls === '54') return 'rejected'
  return 'fatal'
}

/** Whether the error leaves the client unusable, so the next write must reconnect. */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof SinkWriteError) return false
  const code = (err as { code?: unknown }).code
  if (typeof code !== 'string') return true
  return networkCodes.test(code) || code.startsWith('08') || code.startsWith('57P')
}

/** pg's "timeout expired", said with the timeout and how to change it (a network error: transient). */
function timedOut(err: unknown, ms: number | undefined): unknown {
  if (messageOf(err) !== 'timeout expired' || !ms) return err
  const error = new Error(`the server did not answer within ${ms / 1000} s (set \`connect_timeout\` in seconds in the URL to wait longer)`, { cause: err })
  return Object.assign(error, { code: 'ETIMEDOUT' })
}

/** How long a reply that is mere bookkeeping (closing a cursor, ending a session) is waited for. */
const housekeepingTimeoutMs = 10_000

/**
 * A PostgreSQL connection (pg) in a session set up for exact values (`sessionOptions`). A
 * connection lost (while idle or during a query) marks it broken instead of crashing the process;
 * `client` reconnects a broken one, so that a retried write or read can succeed. It stays broken
 * until a reconnect succeeds: a server down for longer than one retry is reconnected by a later one.
 */
export class PgConnection implements SqlConnection {
  readonly engine = 'postgres'
  readonly spelling = pgSpelling
  #client?: pg.Client
  #broken = false
  #closed = false
  #database = ''

  constructor(readonly config: pg.ClientConfig) {}

  get place(): string {
    return `postgres database \`${this.#database || this.config.database || ''}\``
  }

  async open(): Promise<void> {
    const client = new pg.Client(this.config)
    // Only this client's loss counts: a replaced client's late 'end' must not break its successor.
    const lost = () => {
      if (this.#client === client) this.#broken = true
    }
    client.on('error', lost)
    client.on('end', lost)
    await client.connect().catch((err: unknown) => {
      throw timedOut(err, this.config.connectionTimeoutMillis)
    })
    this.#broken = false
    this.#closed = false
    this.#client = client
    this.#database = client.database ?? ''
  }

  /** Whether the connection was lost; the next `client()` opens a new one. */
  get broken(): boolean {
    return this.#broken
  }

  markBroken(): void {
    this.#broken = true
  }

  /**
   * The client; a broken connection is reopened first, and one that cannot be is a
   * `ConnectionError`. After `close()` there is none: a write still retrying then fails instead
   * of committing on a new connection after the run ended.
   */
  async client(): Promise<pg.Client> {
    if (this.#closed) throw new Error(`the connection to the ${this.place} is closed`)
    if (this.#broken) {
      await this.#end()
      try {
        await this.open()
      } catch (err) {
        throw new ConnectionError(`the connection to the ${this.place} was lost and cannot be reopened: ${messageOf(err)}`, { cause: err })
      }
    }
    if (!this.#client) throw new Error('PgConnection used before open()')
    return this.#client
  }

  /**
   * One statement through the extended protocol, which refuses several statements in one text:
   * SQL pasted into a filter (`true); DROP TABLE t; SELECT (1`) cannot run a statement of its own.
   */
  async query(sql: string, params: readonly unknown[]): Promise<Row[]> {
    const client = await this.client()
    const query = { text: sql, values: params as unknown[], queryMode: 'extended' } as pg.QueryConfig
    return (await client.query<Row>(query).catch((err: unknown) => this.#failed(err))).rows
  }

  /** Marks the connection broken when the error says it is gone, and rethrows. */
  #failed(err: unknown): never {
    if (isConnectionError(err)) this.#broken = true
    throw err
  }

  /** The type parsers already give the shared forms. */
  decoder(): (row: Row) => void {
    return () => {}
  }

  param(value: unknown): unknown {
    if (typeof value === 'bigint') return value.toString()
    if (value instanceof Date) return value.toISOString()
    return value
  }

  describe(table: string): Promise<TableSchema | undefined> {
    return this.client().then((client) => describeTable(client, table).catch((err: unknown) => this.#failed(err)))
  }

  catalog(): Promise<Catalog> {
    return postgresCatalog((sql, params) => this.query(sql, params), (table) => this.describe(table))
  }

  /** A server-side cursor (pg-cursor), `pageRows()` rows a read; closed when the reader stops. */
  async *cursor(sql: string, params: readonly unknown[], pageRows: () => number): AsyncGenerator<Row[]> {
    const client = await this.client()
    // The cursor needs the parsers itself: pg-cursor does not take them from the client.
    const cursor = client.query(new Cursor<Row>(sql, params as unknown[], { types: pgTypes }))
    try {
      for (;;) {
        const rows = pageRows()
        const page = await this.#read(client, cursor, rows).catch((err: unknown) => this.#failed(err))
        if (page.length === 0) return
        yield page
        if (page.length < rows) return
      }
    } finally {
      // Closing the portal ends its implicit transaction, so an abandoned read holds no snapshot.
      if (!this.#broken) await this.#closeCursor(client, cursor)
    }
  }

  /**
   * `cursor.read`, or a connection error as soon as the client ends: pg-cursor drops an error that
   * arrives after the last page's CommandComplete and before its ReadyForQuery (a backend
   * terminated at the end of a partition), and the read would never settle.
   */
  async #read(client: pg.Client, cursor: Cursor<Row>, rows: number): Promise<Row[]> {
    if (this.#broken) throw new Error('Connection terminated unexpectedly')
    let ended: (() => void) | undefined
    const lost = new Promise<never>((_, reject) => {
      // A turn later, so that the server's own reason (57P01 …), if the cursor has it, comes first.
      ended = () => setImmediate(() => reject(new Error('Connection terminated unexpectedly')))
      client.once('end', ended)
    })
    try {
      return await Promise.race([cursor.read(rows), lost])
    } finally {
      client.removeListener('end', ended!)
    }
  }

  /**
   * pg-cursor's close waits for a ReadyForQuery that a lost connection never sends (issue 11: a
   * killed source backend hung the run): the wait ends when the client ends too, and after
   * `housekeepingTimeoutMs` the connection is given up as broken.
   */
  async #closeCursor(client: pg.Client, cursor: Cursor<Row>): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    let ended: (() => void) | undefined
    const gone = new Promise<void>((resolve) => {
      ended = resolve
      client.once('end', resolve)
      timer = setTimeout(() => {
        this.#broken = true
        resolve()
      }, housekeepingTimeoutMs)
    })
    try {
      await Promise.race([cursor.close().catch(() => void (this.#broken = true)), gone])
    } finally {
      clearTimeout(timer)
      client.removeListener('end', ended!)
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#end()
  }

  /** Ends the session; a server that does not answer the goodbye is cut off rather than waited for. */
  async #end(): Promise<void> {
    const client = this.#client
    this.#client = undefined
    if (!client) return
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), housekeepingTimeoutMs)))
    const ended = await Promise.race([client.end().catch(() => {}), timeout])
    clearTimeout(timer)
    if (ended === 'timeout') (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy()
  }
}
