import type mysql from 'mysql2/promise'
import { ConnectionError, messageOf } from '../errors.js'
import type { ColumnInfo, Row, TableSchema } from '../types.js'
import { connectMysql, isConnectionError, type MysqlSession, type MysqlSessionOptions, mysqlSpelling, plainValue } from './mysql.js'
import { describeTable, rowDecoder, selectExpression } from './mysql-schema.js'
import type { SqlConnection } from './sql/sql-source.js'
import type { Catalog } from '../catalog.js'
import { mysqlCatalog } from './mysql-catalog.js'

/** How long the goodbye of a session is waited for. */
const endTimeoutMs = 10_000

/**
 * A MySQL or MariaDB connection (mysql2) in a strict UTC session that hands values over exactly
 * (src/engines/mysql.ts). A lost connection (while idle or during a query) marks it broken;
 * `session` reconnects a broken one, so that a retried write or read can succeed. It stays broken
 * until a reconnect succeeds: a server down for longer than one retry is reconnected by a later one.
 */
export class MysqlConnection implements SqlConnection {
  readonly engine = 'mysql'
  readonly spelling = mysqlSpelling
  #session?: MysqlSession
  #broken = false
  #closed = false

  constructor(
    readonly options: mysql.ConnectionOptions,
    readonly sessionOptions: MysqlSessionOptions = {},
  ) {}

  get place(): string {
    return `mysql database \`${this.options.database ?? ''}\``
  }

  /** Whether the server is MariaDB (its DDL differs from MySQL's); undefined before `open`. */
  get mariadb(): boolean | undefined {
    return this.#session?.mariadb
  }

  async open(): Promise<void> {
    // Only this session's loss counts: a replaced connection's late error must not break its successor.
    let session: MysqlSession | undefined
    session = await connectMysql(this.options, () => {
      if (this.#session === session) this.#broken = true
    }, this.sessionOptions)
    this.#session = session
    this.#broken = false
    this.#closed = false
  }

  markBroken(): void {
    this.#broken = true
  }

  /**
   * The session; a broken connection is reopened first, and one that cannot be is a
   * `ConnectionError`. After `close()` there is none: a write still retrying then fails instead
   * of committing on a new connection after the run ended.
   */
  async session(): Promise<MysqlSession> {
    if (this.#closed) throw new Error(`the connection to the ${this.place} is closed`)
    if (this.#broken) {
      await this.#end()
      try {
        await this.open()
      } catch (err) {
        throw new ConnectionError(`the connection to the ${this.place} was lost and cannot be reopened: ${messageOf(err)}`, { cause: err })
      }
    }
    if (!this.#session) throw new Error('MysqlConnection used before open()')
    return this.#session
  }

  async query(sql: string, params: readonly unknown[]): Promise<Row[]> {
    const { conn } = await this.session()
    const [rows] = await conn.query<mysql.RowDataPacket[]>(sql, params as unknown[]).catch((err: unknown) => this.#failed(err))
    return rows as Row[]
  }

  /** Marks the connection broken when the error says it is gone, and rethrows. */
  #failed(err: unknown): never {
    if (isConnectionError(err)) this.#broken = true
    throw err
  }

  decoder(schema: TableSchema): (row: Row) => void {
    return rowDecoder(schema)
  }

  selectExpression(column: ColumnInfo): string | undefined {
    return selectExpression(column)
  }

  param(value: unknown, column: ColumnInfo): unknown {
    return plainValue(value, column)
  }

  async describe(table: string): Promise<TableSchema | undefined> {
    const s = await this.session()
    return describeTable(s.conn, s.mariadb, table).catch((err: unknown) => this.#failed(err))
  }

  async catalog(): Promise<Catalog> {
    const s = await this.session()
    return mysqlCatalog((sql, params) => this.query(sql, params), (table) => this.describe(table), s.mariadb)
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#end()
  }

  /** Ends the session; a server that does not answer the goodbye is cut off rather than waited for. */
  async #end(): Promise<void> {
    const session = this.#session
    this.#session = undefined
    if (!session) return
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), endTimeoutMs)))
    const ended = await Promise.race([session.conn.end().catch(() => 'failed' as const), timeout])
    clearTimeout(timer)
    if (ended !== undefined) session.conn.destroy()
  }
}
