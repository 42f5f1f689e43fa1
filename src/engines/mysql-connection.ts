import type mysql from 'mysql2/promise'
import type { ColumnInfo, Row, TableSchema } from '../types.js'
import { connectMysql, type MysqlSession, mysqlSpelling, plainValue } from './mysql.js'
import { describeTable, rowDecoder, selectExpression } from './mysql-schema.js'
import type { SqlConnection } from './sql/sql-source.js'

/**
 * A MySQL or MariaDB connection (mysql2) in a strict UTC session that hands values over exactly
 * (src/engines/mysql.ts). A lost connection marks it broken; `session` reconnects a broken one, so
 * that a retried write can succeed.
 */
export class MysqlConnection implements SqlConnection {
  readonly engine = 'mysql'
  readonly spelling = mysqlSpelling
  #session?: MysqlSession
  #broken = false

  constructor(readonly options: mysql.ConnectionOptions) {}

  get place(): string {
    return `mysql database \`${this.options.database ?? ''}\``
  }

  /** Whether the server is MariaDB (its DDL differs from MySQL's); undefined before `open`. */
  get mariadb(): boolean | undefined {
    return this.#session?.mariadb
  }

  async open(): Promise<void> {
    this.#broken = false
    this.#session = await connectMysql(this.options, () => (this.#broken = true))
  }

  markBroken(): void {
    this.#broken = true
  }

  async session(): Promise<MysqlSession> {
    if (this.#broken) {
      await this.close()
      await this.open()
    }
    if (!this.#session) throw new Error('MysqlConnection used before open()')
    return this.#session
  }

  async query(sql: string, params: readonly unknown[]): Promise<Row[]> {
    const [rows] = await (await this.session()).conn.query<mysql.RowDataPacket[]>(sql, params as unknown[])
    return rows as Row[]
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
    return describeTable(s.conn, s.mariadb, table)
  }

  async close(): Promise<void> {
    const session = this.#session
    this.#session = undefined
    await session?.conn.end().catch(() => session.conn.destroy())
  }
}
