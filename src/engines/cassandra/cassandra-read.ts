import { keyId } from '../../canonical.js'
import { keyFromJson, keyToJson } from '../../keys.js'
import type { Page } from '../../source.js'
import type { ColumnInfo, Json, KeyTuple, Row } from '../../types.js'
import { type CassandraConnection, quote } from './cassandra-connection.js'
import type { CassandraTable } from './cassandra-schema.js'
import { filterClause, tokenOf, type TokenRange } from './cassandra-tokens.js'
import { decodeValue, encodeValue } from './cassandra-values.js'

/**
 * Where a read stands: the token of the last row handed over, its partition key and, in a table
 * with clustering columns, its clustering key, so that a read resumed inside a wide partition
 * goes on after that row instead of reading the partition again from its start.
 */
export type Position = {
  readonly t: string
  readonly k: readonly Json[]
  readonly c?: readonly Json[]
}

export interface ReadOptions {
  /** Columns to read beside the primary key's; undefined: all. */
  readonly columns?: readonly string[] | undefined
  readonly filter?: string | undefined
  readonly pageSize: number
}

/**
 * Reads a token range of a table in the server's own order (token, then partition key, then
 * clustering order), in pages fetched with the driver's paging state, each page reporting the
 * position after its last row.
 */
export class TableReader {
  readonly #select: string
  readonly #alias: string
  readonly #columns: readonly ColumnInfo[]
  readonly #partition: readonly ColumnInfo[]
  readonly #and: string
  readonly #allow: string

  constructor(
    readonly connection: CassandraConnection,
    readonly table: CassandraTable,
    readonly options: ReadOptions,
  ) {
    const schema = table.schema
    const wanted = options.columns && new Set([...schema.primaryKey, ...options.columns])
    this.#columns = wanted ? schema.columns.filter((c) => wanted.has(c.name)) : schema.columns
    this.#partition = table.partitionKey.map((n) => schema.columns.find((c) => c.name === n)!)
    this.#alias = aliasFor(schema.columns)
    this.#select = `SELECT ${this.#columns.map((c) => quote(c.name)).join(', ')}, ${tokenOf(table)} AS ${quote(this.#alias)} FROM ${connection.table(schema.table)}`
    const clause = filterClause(options.filter)
    this.#and = clause.and
    this.#allow = clause.allow
  }

  async *read(range: TokenRange, after: Position | undefined): AsyncGenerator<Page> {
    let from = range.from
    if (after) {
      yield* this.#rest(after)
      from = BigInt(after.t)
    }
    if (from < range.to) yield* this.#scan(`${tokenOf(this.table)} > ? AND ${tokenOf(this.table)} <= ?`, [from, range.to])
  }

  /**
   * What follows the position within its token: the rest of its partition after its clustering
   * key (one slice per clustering column, deepest first, so that the slices come in clustering
   * order), then the partitions sharing that token (a hash collision) that the server orders after it.
   */
  async *#rest(after: Position): AsyncGenerator<Page> {
    const last = after.k.map(keyFromJson)
    const partitions = await this.#partitionsAt(BigInt(after.t))
    const at = partitions.findIndex((k) => keyId(k, this.#partition) === keyId(last, this.#partition))
    const key = this.#partition.map((c) => `${quote(c.name)} = ?`)
    const clustering = this.table.clustering
    if (at >= 0 && after.c && clustering.length) {
      const c = after.c.map(keyFromJson)
      for (let i = clustering.length - 1; i >= 0; i--) {
        const equal = clustering.slice(0, i).map((col) => `${quote(col.name)} = ?`)
        const slice = `${quote(clustering[i]!.name)} ${clustering[i]!.descending ? '<' : '>'} ?`
        const values = [...this.#encode(last, this.#partition), ...this.#encode(c.slice(0, i + 1), clustering.map((col) => this.#column(col.name)))]
        yield* this.#scan([...key, ...equal, slice].join(' AND '), values)
      }
    }
    // A partition that is gone leaves no place among its token's others: they are read whole.
    for (const other of at >= 0 ? partitions.slice(at + 1) : partitions) yield* this.#scan(key.join(' AND '), this.#encode(other, this.#partition))
  }

  /** The partition keys with this token, in the server's order (almost always one). */
  async #partitionsAt(token: bigint): Promise<KeyTuple[]> {
    const names = this.#partition.map((c) => quote(c.name)).join(', ')
    const cql = `SELECT DISTINCT ${names} FROM ${this.connection.table(this.table.schema.table)} WHERE ${tokenOf(this.table)} = ?`
    const keys: KeyTuple[] = []
    let pageState: string | undefined
    do {
      const result = await this.connection.execute(cql, [token], { fetchSize: 1000, ...(pageState && { pageState }) })
      for (const row of result.rows) keys.push(this.#partition.map((c) => decodeValue(row[c.name], this.#type(c.name), c)))
      pageState = result.pageState ?? undefined
    } while (pageState)
    return keys
  }

  async *#scan(where: string, values: unknown[]): AsyncGenerator<Page> {
    const cql = `${this.#select} WHERE ${where}${this.#and}${this.#allow}`
    let pageState: string | undefined
    do {
      const result = await this.connection.execute(cql, values, { fetchSize: this.options.pageSize, ...(pageState && { pageState }) })
      pageState = result.pageState ?? undefined
      if (result.rows.length === 0) continue
      const rows = result.rows.map((r) => this.#row(r))
      yield { rows, position: this.#position(result.rows.at(-1)!, rows.at(-1)!) }
    } while (pageState)
  }

  #row(source: Record<string, unknown>): Row {
    const row: Row = {}
    for (const c of this.#columns) row[c.name] = decodeValue(source[c.name], this.#type(c.name), c)
    return row
  }

  #position(source: Record<string, unknown>, row: Row): Position {
    const position = { t: String(source[this.#alias]), k: this.#partition.map((c) => keyToJson(row[c.name])) }
    const clustering = this.table.clustering
    return clustering.length ? { ...position, c: clustering.map((c) => keyToJson(row[c.name])) } : position
  }

  #encode(values: KeyTuple, columns: readonly ColumnInfo[]): unknown[] {
    return values.map((v, i) => encodeValue(v, this.#type(columns[i]!.name), columns[i]!))
  }

  #type(name: string) {
    return this.table.types.get(name)!
  }

  #column(name: string): ColumnInfo {
    return this.table.schema.columns.find((c) => c.name === name)!
  }
}

/** A name for the token column that no column of the table has. */
function aliasFor(columns: readonly ColumnInfo[]): string {
  let alias = 'ferry_token'
  while (columns.some((c) => c.name === alias)) alias = `_${alias}`
  return alias
}
