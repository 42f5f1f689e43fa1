import type mysql from 'mysql2/promise'
import {
  connectMysql,
  decodeKey,
  maxKey,
  type MysqlSession,
  quoteIdent,
  whereClause,
} from '../src/dialects/mysql.js'
import { describeTable, rowDecoder } from '../src/dialects/mysql-schema.js'
import { MissingTableError } from '../src/errors.js'
import type { KeyRangeOf, ReadSpec, Source } from '../src/source.js'
import type { Key, KeyRange, Row, TableSchema } from '../src/types.js'

/**
 * Reads MySQL or MariaDB with mysql2 by keyset pagination: each page is one
 * `WHERE key > last ORDER BY key LIMIT n` query, so an abandoned read holds nothing open. Values
 * come out exact (see src/dialects/values.ts): BIGINT as number or bigint, DECIMAL as text,
 * dates as text, tinyint(1) as boolean, JSON parsed.
 */
export class MysqlSource implements Source {
  readonly dialect = 'mysql'
  readonly #options: mysql.ConnectionOptions
  #session?: MysqlSession

  constructor(options: mysql.ConnectionOptions) {
    this.#options = options
  }

  async open(): Promise<void> {
    this.#session = await connectMysql(this.#options, () => {})
  }

  get #s(): MysqlSession {
    if (!this.#session) throw new Error('MysqlSource used before open()')
    return this.#session
  }

  async describe(table: string): Promise<TableSchema> {
    const schema = await describeTable(this.#s.conn, this.#s.mariadb, table)
    if (!schema) throw new MissingTableError(table, `mysql database \`${this.#options.database ?? ''}\``)
    return schema
  }

  async count(table: string, where?: string, keyRange?: KeyRangeOf): Promise<number> {
    const [clause, params] = whereClause(keyRange?.key ?? '', keyRange?.range ?? {}, where)
    const [rows] = await this.#s.conn.query<mysql.RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${quoteIdent(table)}${clause}`, params)
    return Number(rows[0]!.n)
  }

  async splitKeys(table: string, key: string, every: number, where?: string): Promise<Key[]> {
    const [clause, params] = whereClause(key, {}, where)
    const k = quoteIdent(key)
    const sql = `SELECT k FROM (SELECT ${k} AS k, ROW_NUMBER() OVER (ORDER BY ${k}) AS rn FROM ${quoteIdent(table)}${clause}) s WHERE rn % ? = 0 ORDER BY k`
    const [rows, fields] = await this.#s.conn.query<mysql.RowDataPacket[]>(sql, [...params, every])
    return rows.map((r) => decodeKey(r.k, fields[0]))
  }

  async maxKey(table: string, key: string, range: KeyRange, where?: string): Promise<Key | undefined> {
    return maxKey(this.#s.conn, table, key, range, where)
  }

  async *read(spec: ReadSpec): AsyncGenerator<Row[]> {
    const decode = rowDecoder(await this.describe(spec.table))
    const sqlOf = (clause: string) =>
      `SELECT * FROM ${quoteIdent(spec.table)}${clause} ORDER BY ${quoteIdent(spec.key)} LIMIT ?`
    let after = spec.range.gt
    for (;;) {
      const [clause, params] = whereClause(spec.key, { ...spec.range, gt: after }, spec.where)
      const [page, fields] = await this.#s.conn.query<mysql.RowDataPacket[]>(sqlOf(clause), [...params, spec.pageSize])
      if (page.length === 0) return
      const keyField = fields.find((f) => f.name === spec.key)
      // The next page starts after this one's last key, read before decoding changes its form.
      after = decodeKey(page[page.length - 1]![spec.key], keyField)
      for (const row of page) decode(row)
      yield page as Row[]
      if (page.length < spec.pageSize) return
    }
  }

  async close(): Promise<void> {
    const session = this.#session
    this.#session = undefined
    await session?.conn.end().catch(() => session.conn.destroy())
  }
}
