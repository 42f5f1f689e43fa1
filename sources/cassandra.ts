import type { ConnectionOptions } from '../src/endpoint.js'
import { CassandraConnection } from '../src/engines/cassandra/cassandra-connection.js'
import { isTransient } from '../src/engines/cassandra/cassandra-errors.js'
import { type Position, TableReader } from '../src/engines/cassandra/cassandra-read.js'
import { type CassandraTable, describeCassandra } from '../src/engines/cassandra/cassandra-schema.js'
import { cassandraSettings, type CassandraSettings } from '../src/engines/cassandra/cassandra-settings.js'
import { countRows, planRanges, rangeJson, rangeOf, wholeRing } from '../src/engines/cassandra/cassandra-tokens.js'
import { ConfigError, type FailureKind, KeyError } from '../src/errors.js'
import { sameSet } from '../src/keys.js'
import type { Filter, Page, ReadSpec, Source, TableRead } from '../src/source.js'
import type { Json, TableSchema } from '../src/types.js'

export function createSource(connection: string | ConnectionOptions): CassandraSource {
  return new CassandraSource(cassandraSettings(connection))
}

/** How long a count stays good for planning the partitions of the run that just made it. */
const countReuseMs = 60_000

/**
 * Reads a Cassandra table in the server's own order: token order of the partition key, then
 * clustering order (src/engines/cassandra/cassandra-read.ts). Partitions are token ranges, cut
 * from the driver's metadata (each node's vnode ranges) and split evenly; a position is the last
 * row's token, partition key and clustering key. The key is the primary key, unique by nature.
 * Counts go by token range, in parallel.
 */
export class CassandraSource implements Source {
  readonly engine = 'cassandra'
  readonly #connection: CassandraConnection
  readonly #tables = new Map<string, Promise<CassandraTable>>()
  #counted?: { readonly what: string; readonly rows: number; readonly at: number }

  constructor(settings: CassandraSettings) {
    this.#connection = new CassandraConnection(settings)
  }

  open(): Promise<void> {
    return this.#connection.open()
  }

  /** Described once per table and connection, so that every page is read with the same columns. */
  #table(name: string): Promise<CassandraTable> {
    let table = this.#tables.get(name)
    if (!table) {
      table = describeCassandra(this.#connection, name).then(async (found) => found ?? Promise.reject(await this.#connection.missing(name)))
      table.catch(() => this.#tables.delete(name))
      this.#tables.set(name, table)
    }
    return table
  }

  async describe(table: string): Promise<TableSchema> {
    return (await this.#table(table)).schema
  }

  async count(table: string, filter?: Filter): Promise<number> {
    const rows = await countRows(this.#connection, await this.#table(table), cql(filter), this.#connection.settings.concurrency)
    this.#counted = { what: JSON.stringify([table, filter ?? null]), rows, at: Date.now() }
    return rows
  }

  /** Token ranges of about `rowsPerPartition` rows each (the ring is hashed evenly); the whole ring without it. */
  async partitions(read: TableRead, rowsPerPartition?: number): Promise<Json[]> {
    await this.#keyed(read)
    if (rowsPerPartition === undefined) return [rangeJson(wholeRing)]
    const what = JSON.stringify([read.table, read.filter ?? null])
    const counted = this.#counted
    const rows = counted && counted.what === what && Date.now() - counted.at < countReuseMs ? counted.rows : await this.count(read.table, read.filter)
    return planRanges(this.#connection, Math.ceil(rows / rowsPerPartition)).map(rangeJson)
  }

  /** Primary key columns are never NULL in Cassandra. */
  async hasNullKey(): Promise<boolean> {
    return false
  }

  async *read(spec: ReadSpec): AsyncGenerator<Page> {
    const table = await this.#keyed(spec)
    const reader = new TableReader(this.#connection, table, { columns: spec.columns, filter: cql(spec.filter), pageSize: spec.pageSize })
    yield* reader.read(rangeOf(spec.partition), spec.after as Position | undefined)
  }

  /** The table, when the read goes by its primary key: the only order a Cassandra table is read in. */
  async #keyed(read: TableRead): Promise<CassandraTable> {
    const table = await this.#table(read.table)
    const key = table.schema.primaryKey
    if (!sameSet(read.key, key)) {
      throw new KeyError(
        `source table \`${read.table}\`: a Cassandra table is read in token order of its primary key (${key.map((k) => `\`${k}\``).join(', ')}), the only key ferry can read it by; leave \`primaryKey\` unset or set it to those columns`,
      )
    }
    return table
  }

  classify(err: unknown): FailureKind {
    return isTransient(err) ? 'transient' : 'fatal'
  }

  close(): Promise<void> {
    return this.#connection.close()
  }
}

/** A filter is CQL text (relations joined by AND). */
function cql(filter: Filter | undefined): string | undefined {
  if (filter === undefined || typeof filter === 'string') return filter
  throw new ConfigError('setting `where`: a Cassandra source takes CQL relations as text (`status = \'active\' AND total > 10`), not a document')
}
