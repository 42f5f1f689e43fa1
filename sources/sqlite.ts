import Database from 'better-sqlite3'
import {
  describeTable,
  maxKey,
  quoteIdent,
  rowDecoder,
  whereClause,
} from '../src/dialects/sqlite.js'
import { MissingTableError } from '../src/errors.js'
import { narrowInteger } from '../src/keys.js'
import type { KeyRangeOf, ReadSpec, Source } from '../src/source.js'
import type { Key, KeyRange, Row, TableSchema } from '../src/types.js'

/**
 * Reads a SQLite file with better-sqlite3. Integers are read exactly (as bigint when beyond 2^53)
 * and booleans as booleans.
 */
export class SqliteSource implements Source {
  readonly dialect = 'sqlite'
  #db?: Database.Database
  readonly #filename: string

  constructor(filename: string) {
    this.#filename = filename
  }

  async open(): Promise<void> {
    this.#db = new Database(this.#filename, { readonly: true, fileMustExist: true })
  }

  get #conn(): Database.Database {
    if (!this.#db) throw new Error('SqliteSource used before open()')
    return this.#db
  }

  async describe(table: string): Promise<TableSchema> {
    const schema = describeTable(this.#conn, table)
    if (!schema) throw new MissingTableError(table, `sqlite file \`${this.#filename}\``)
    return schema
  }

  async count(table: string, where?: string, keyRange?: KeyRangeOf): Promise<number> {
    const [clause, params] = whereClause(keyRange?.key ?? '', keyRange?.range ?? {}, where)
    const sql = `SELECT COUNT(*) AS n FROM ${quoteIdent(table)}${clause}`
    return (this.#conn.prepare(sql).get(...params) as { n: number }).n
  }

  async splitKeys(table: string, key: string, every: number, where?: string): Promise<Key[]> {
    const [clause, params] = whereClause(key, {}, where)
    const k = quoteIdent(key)
    const sql = `SELECT k FROM (SELECT ${k} AS k, ROW_NUMBER() OVER (ORDER BY ${k}) AS rn FROM ${quoteIdent(table)}${clause}) WHERE rn % ? = 0 ORDER BY k`
    const rows = this.#conn.prepare(sql).safeIntegers(true).all(...params, every) as { k: Key }[]
    return rows.map((r) => (typeof r.k === 'bigint' ? narrowInteger(r.k) : r.k))
  }

  async maxKey(table: string, key: string, range: KeyRange, where?: string): Promise<Key | undefined> {
    return maxKey(this.#conn, table, key, range, where)
  }

  async *read(spec: ReadSpec): AsyncGenerator<Row[]> {
    const decode = rowDecoder(await this.describe(spec.table))
    const k = quoteIdent(spec.key)
    let after = spec.range.gt
    // One prepared statement per shape: the first page may have no lower bound.
    const statements = new Map<boolean, Database.Statement>()
    for (;;) {
      const [clause, params] = whereClause(spec.key, { ...spec.range, gt: after }, spec.where)
      const hasLower = after !== undefined
      let stmt = statements.get(hasLower)
      if (!stmt) {
        const sql = `SELECT * FROM ${quoteIdent(spec.table)}${clause} ORDER BY ${k} LIMIT ?`
        stmt = this.#conn.prepare(sql).safeIntegers(true)
        statements.set(hasLower, stmt)
      }
      const page = stmt.all(...params, spec.pageSize) as Row[]
      if (page.length === 0) return
      for (const row of page) decode(row)
      after = page[page.length - 1]![spec.key] as Key
      yield page
      if (page.length < spec.pageSize) return
    }
  }

  async close(): Promise<void> {
    this.#db?.close()
    this.#db = undefined
  }
}
