import type pg from 'pg'
import Cursor from 'pg-cursor'
import {
  connectPg,
  describeTable,
  maxKey,
  pgTypes,
  quoteIdent,
  whereClause,
} from '../src/dialects/postgres.js'
import { MissingTableError } from '../src/errors.js'
import type { KeyRangeOf, ReadSpec, Source } from '../src/source.js'
import type { Key, KeyRange, Row, TableSchema } from '../src/types.js'

/**
 * Reads PostgreSQL with pg: a key range is one ordered query read through a server-side cursor,
 * `pageSize` rows at a time. Values come out exact (see src/dialects/values.ts): int8 as number or
 * bigint, numeric, date and timestamp as text, timestamptz as a UTC ISO string.
 */
export class PostgresSource implements Source {
  readonly dialect = 'postgres'
  readonly #config: pg.ClientConfig
  #client?: pg.Client
  #broken = false

  constructor(config: pg.ClientConfig) {
    this.#config = config
  }

  async open(): Promise<void> {
    this.#broken = false
    this.#client = await connectPg(this.#config, () => (this.#broken = true))
  }

  get #conn(): pg.Client {
    if (!this.#client) throw new Error('PostgresSource used before open()')
    return this.#client
  }

  async describe(table: string): Promise<TableSchema> {
    const schema = await describeTable(this.#conn, table)
    if (!schema) throw new MissingTableError(table, `postgres database \`${this.#conn.database}\``)
    return schema
  }

  async count(table: string, where?: string, keyRange?: KeyRangeOf): Promise<number> {
    const [clause, params] = whereClause(keyRange?.key ?? '', keyRange?.range ?? {}, where)
    const { rows } = await this.#conn.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${quoteIdent(table)}${clause}`, params)
    return rows[0]!.n
  }

  async splitKeys(table: string, key: string, every: number, where?: string): Promise<Key[]> {
    const [clause, params] = whereClause(key, {}, where, 2)
    const k = quoteIdent(key)
    const sql = `SELECT k FROM (SELECT ${k} AS k, ROW_NUMBER() OVER (ORDER BY ${k}) AS rn FROM ${quoteIdent(table)}${clause}) s WHERE rn % $1 = 0 ORDER BY k`
    const { rows } = await this.#conn.query<{ k: Key }>(sql, [every, ...params])
    return rows.map((r) => r.k)
  }

  async maxKey(table: string, key: string, range: KeyRange, where?: string): Promise<Key | undefined> {
    return maxKey(this.#conn, table, key, range, where)
  }

  async *read(spec: ReadSpec): AsyncGenerator<Row[]> {
    const [clause, params] = whereClause(spec.key, spec.range, spec.where)
    const sql = `SELECT * FROM ${quoteIdent(spec.table)}${clause} ORDER BY ${quoteIdent(spec.key)}`
    // The cursor needs the parsers itself: pg-cursor does not take them from the client.
    const cursor = this.#conn.query(new Cursor<Row>(sql, params, { types: pgTypes }))
    try {
      for (;;) {
        const page = await cursor.read(spec.pageSize)
        if (page.length === 0) return
        yield page
        if (page.length < spec.pageSize) return
      }
    } finally {
      // Closing the portal ends its implicit transaction, so an abandoned read holds no snapshot.
      // A lost connection would never answer the close.
      if (!this.#broken) await cursor.close()
    }
  }

  async close(): Promise<void> {
    const client = this.#client
    this.#client = undefined
    await client?.end()
  }
}
