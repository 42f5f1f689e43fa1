import { createRequire } from 'node:module'
import { ConnectionError, messageOf } from '../errors.js'
import type { ColumnInfo, Row, TableSchema } from '../types.js'
import { loadDriver } from './load-driver.js'
import { isConnectionError, type MssqlConfig, mssqlSpelling, quoteIdent } from './mssql.js'
import { describeTable, type MssqlColumnDetails, type MssqlTable, rowDecoder, selectExpression } from './mssql-schema.js'
import type { TdsType } from './mssql-tds.js'
import { codecFor, type MssqlCodec, plainCodec } from './mssql-values.js'
import type { SqlConnection } from './sql/sql-source.js'

/** The parts of the `mssql` package ferry uses (typed here: the package is optional). */
export interface MssqlDriver {
  readonly sql: {
    readonly ConnectionPool: new (config: MssqlConfig) => MssqlPool
    readonly Transaction: new (pool: MssqlPool) => MssqlTransaction
    readonly Request: new (parent: MssqlPool | MssqlTransaction) => MssqlRequest
  }
  /** tedious' types, from the tedious that mssql itself uses. */
  readonly types: Readonly<Record<string, TdsType>>
}

export interface MssqlPool {
  connect(): Promise<unknown>
  close(): Promise<unknown>
  on(event: 'error', listener: (err: unknown) => void): unknown
}

export interface MssqlRequest {
  input(name: string, type: { type: TdsType; length?: number; precision?: number; scale?: number }, value: unknown): MssqlRequest
  query(sql: string): Promise<{ recordset?: Row[]; rowsAffected: number[] }>
}

export interface MssqlTransaction {
  begin(): Promise<unknown>
  commit(): Promise<unknown>
  rollback(): Promise<unknown>
  /** mssql's own way to the transaction's tedious connection (its requests use it). */
  acquire(requester: object, callback: (err: unknown, connection: TediousConnection) => void): unknown
  release(connection: TediousConnection): unknown
}

/** The tedious connection's bulk-load API. */
export interface TediousConnection {
  newBulkLoad(table: string, options: BulkOptions, callback: (err: unknown, rowCount?: number) => void): TediousBulkLoad
  execBulkLoad(bulkLoad: TediousBulkLoad, rows: Iterable<unknown[]> | AsyncIterable<unknown[]>): void
}

export interface TediousBulkLoad {
  addColumn(name: string, type: TdsType, options: { nullable: boolean; length?: number; precision?: number; scale?: number }): void
  /** The columns as added, their sizes resolved. */
  readonly columns: readonly ({ name: string; type: TdsType } & TdsParameterSizes)[]
  getOptionsSql(): string
  getBulkInsertSql(): string
}

type TdsParameterSizes = { length?: number; precision?: number; scale?: number; value: unknown }

interface BulkOptions {
  readonly keepNulls: boolean
  readonly checkConstraints: boolean
  readonly fireTriggers: boolean
}

/** Loads mssql (and tedious' types from beside it) the first time a SQL Server connection opens. */
export async function loadMssql(): Promise<MssqlDriver> {
  const sql = await loadDriver<MssqlDriver['sql']>('mssql', 'SQL Server')
  // tedious as mssql resolves it, not whichever copy the project root may hold.
  const tedious = createRequire(createRequire(import.meta.url).resolve('mssql'))('tedious') as { TYPES: Record<string, TdsType> }
  return { sql, types: tedious.TYPES }
}

/** A value bound with its column's codec (`param`), so that it is sent as the column's own type. */
export class MssqlParam {
  constructor(
    readonly codec: MssqlCodec,
    readonly value: unknown,
  ) {}
}

/** A column of a bulk load: its name, codec, and whether it may be NULL. */
export interface BulkColumn {
  readonly name: string
  readonly codec: MssqlCodec
}

/**
 * One SQL Server connection through mssql (a pool of one) in a session set up for exact values
 * (src/engines/mssql.ts). A lost connection marks it broken; the next use opens a new one, so that
 * a retried write can succeed, and one that cannot be reopened is a `ConnectionError`.
 */
export class MssqlConnection implements SqlConnection {
  readonly engine = 'mssql'
  readonly spelling = mssqlSpelling
  /** Write details (identity, code page) of the tables described, by table. */
  readonly details = new Map<string, ReadonlyMap<string, MssqlColumnDetails>>()
  #driver?: MssqlDriver
  #pool?: MssqlPool
  #broken = false
  #closed = false
  #where = ''

  constructor(
    readonly config: MssqlConfig,
    readonly load: () => Promise<MssqlDriver> = loadMssql,
  ) {}

  get place(): string {
    return `mssql database ${this.#where || `\`${this.config.database ?? ''}\``}`
  }

  async open(): Promise<void> {
    this.#driver ??= await this.load()
    const pool = new this.#driver.sql.ConnectionPool(this.config)
    pool.on('error', () => (this.#broken = true))
    await pool.connect()
    this.#pool = pool
    this.#broken = false
    this.#closed = false
    const [where] = await this.query('SELECT DB_NAME() AS db, SCHEMA_NAME() AS s', [])
    this.#where = `\`${String(where?.db)}\` (schema \`${String(where?.s)}\`)`
  }

  markBroken(): void {
    this.#broken = true
  }

  /** The pool; a broken one is replaced first. After `close()` there is none. */
  async pool(): Promise<MssqlPool> {
    if (this.#closed) throw new Error(`the connection to the ${this.place} is closed`)
    if (this.#broken) {
      await this.#end()
      try {
        await this.open()
      } catch (err) {
        throw new ConnectionError(`the connection to the ${this.place} was lost and cannot be reopened: ${messageOf(err)}`, { cause: err })
      }
    }
    if (!this.#pool) throw new Error('MssqlConnection used before open()')
    return this.#pool
  }

  /** A request with positional parameters `@p1…`, each sent as its codec's type. */
  request(parent: MssqlPool | MssqlTransaction, params: readonly unknown[]): MssqlRequest {
    const request = new this.#driver!.sql.Request(parent)
    params.forEach((p, i) => {
      const { codec, value } = p instanceof MssqlParam ? p : new MssqlParam(plainCodec(p), p)
      const type = { type: this.type(codec), ...sizes(codec) }
      request.input(`p${i + 1}`, type, value === null || value === undefined ? null : codec.encode(value))
    })
    return request
  }

  type(codec: MssqlCodec): TdsType {
    return typeof codec.type === 'string' ? this.#driver!.types[codec.type]! : codec.type
  }

  async query(sql: string, params: readonly unknown[]): Promise<Row[]> {
    try {
      return (await this.request(await this.pool(), params).query(sql)).recordset ?? []
    } catch (err) {
      if (isConnectionError(err)) this.markBroken()
      throw err
    }
  }

  decoder(schema: TableSchema): (row: Row) => void {
    return rowDecoder(schema)
  }

  selectExpression(column: ColumnInfo): string | undefined {
    return selectExpression(column)
  }

  param(value: unknown, column: ColumnInfo): unknown {
    return new MssqlParam(codecFor(column), value)
  }

  async describe(table: string): Promise<TableSchema | undefined> {
    return (await this.describeTable(table))?.schema
  }

  async describeTable(table: string): Promise<MssqlTable | undefined> {
    const found = await describeTable((sql, params) => this.query(sql, params), table)
    if (found) this.details.set(table, found.details)
    return found
  }

  /** Runs `body` in a transaction: committed when it resolves, rolled back when it throws. */
  async transaction<T>(body: (tx: MssqlTransaction) => Promise<T>): Promise<T> {
    const tx = new this.#driver!.sql.Transaction(await this.pool())
    try {
      await tx.begin()
      const result = await body(tx)
      await tx.commit()
      return result
    } catch (err) {
      // With XACT_ABORT on, the server has rolled back already; mssql then refuses a rollback.
      if (isConnectionError(err)) this.markBroken()
      else await tx.rollback().catch(() => {})
      throw err
    }
  }

  /**
   * Streams rows into a table through the TDS bulk-load path on the transaction's connection,
   * constraints checked and triggers fired as for INSERT, NULLs kept as NULLs (not defaults).
   */
  async bulkLoad(tx: MssqlTransaction, table: string, columns: readonly BulkColumn[], rows: Iterable<unknown[]>): Promise<void> {
    const connection = await new Promise<TediousConnection>((resolve, reject) =>
      tx.acquire(this, (err, c) => (err ? reject(err) : resolve(c))),
    )
    try {
      await new Promise<void>((resolve, reject) => {
        const options = { keepNulls: true, checkConstraints: true, fireTriggers: true }
        const bulk = connection.newBulkLoad(table, options, (err) => (err ? reject(err) : resolve()))
        for (const c of columns) bulk.addColumn(c.name, this.type(c.codec), { nullable: true, ...sizes(c.codec) })
        quoteBulkColumns(bulk, table)
        connection.execBulkLoad(bulk, rows)
      })
    } finally {
      tx.release(connection)
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#end()
  }

  async #end(): Promise<void> {
    const pool = this.#pool
    this.#pool = undefined
    await pool?.close().catch(() => {})
  }
}

/**
 * tedious writes `insert bulk t ([name] type, …)` with each name as it is, so that a `]` in it
 * would end the name; its column metadata must carry the name itself. The statement is made here
 * as tedious makes it, with the names quoted.
 */
export function quoteBulkColumns(bulk: TediousBulkLoad, table: string): void {
  bulk.getBulkInsertSql = () =>
    `insert bulk ${table}(${bulk.columns.map((c) => `${quoteIdent(c.name)} ${c.type.declaration(c)}`).join(', ')})${bulk.getOptionsSql()}`
}

function sizes(codec: MssqlCodec): { length?: number; precision?: number; scale?: number } {
  return {
    ...(codec.length !== undefined && { length: codec.length }),
    ...(codec.precision !== undefined && { precision: codec.precision }),
    ...(codec.scale !== undefined && { scale: codec.scale }),
  }
}
