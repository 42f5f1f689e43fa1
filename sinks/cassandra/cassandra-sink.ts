import type { ConnectionOptions } from '../../src/endpoint.js'
import { CassandraConnection, quote } from '../../src/engines/cassandra/cassandra-connection.js'
import { classifyCassandraError } from '../../src/engines/cassandra/cassandra-errors.js'
import { type CassandraTable, createTableCql, cqlTypeFor, describeCassandra, partitionColumns } from '../../src/engines/cassandra/cassandra-schema.js'
import { cassandraSettings, type CassandraSettings, checkTableName } from '../../src/engines/cassandra/cassandra-settings.js'
import { countRows, mapConcurrently } from '../../src/engines/cassandra/cassandra-tokens.js'
import { decodeValue, encodeValue, Refusal } from '../../src/engines/cassandra/cassandra-values.js'
import { ConfigError, type FailureKind } from '../../src/errors.js'
import { sameSet } from '../../src/keys.js'
import type { PreparePlan, Sink, SinkOptions, WriteKind, WriteResult, WriteTarget } from '../../src/sink.js'
import type { ColumnInfo, KeyTuple, Row, TableSchema } from '../../src/types.js'
import { writeRows } from './cassandra-write.js'

export function createSink(connection: string | ConnectionOptions, options: SinkOptions = {}): CassandraSink {
  return new CassandraSink(cassandraSettings(connection), options)
}

/**
 * Writes rows into a Cassandra table with prepared INSERTs (cassandra-write.ts). A table ferry
 * creates is keyed on the target key: the `partitionKey` setting's columns (else the key's first)
 * partition it, the others cluster it; its comment records the logical types CQL does not say.
 *
 * Durability is the cluster's: a write is acknowledged at the consistency level once the replicas
 * have it in their commit log, which each node syncs to disk as its `commitlog_sync` says (every
 * 10 s by default: a checkpoint outlives the crash of a whole replica set only with
 * `commitlog_sync: batch` or `group`, or replicas enough to survive it).
 */
export class CassandraSink implements Sink {
  readonly engine = 'cassandra'
  readonly #connection: CassandraConnection
  readonly #tables = new Map<string, CassandraTable | undefined>()

  constructor(settings: CassandraSettings, readonly options: SinkOptions) {
    this.#connection = new CassandraConnection(settings)
  }

  /** A keyspace the sink may create (`replicationFactor`) need not exist yet, dry runs included. */
  open(): Promise<void> {
    return this.#connection.open(this.#connection.settings.replicationFactor === undefined ? 'refuse' : 'allow')
  }

  async describe(table: string): Promise<TableSchema | undefined> {
    const found = await describeCassandra(this.#connection, table)
    this.#tables.set(table, found)
    return found?.schema
  }

  /** The table name Cassandra takes; a `partitionKey` of target key columns, and the one an existing table has. */
  checkTarget(target: TableSchema): void {
    checkTableName(target.table, 'targetTable')
    const setting = this.#connection.settings.partitionKey
    const existing = this.#tables.get(target.table)
    if (existing?.schema !== target) return void partitionColumns(target, setting)
    if (setting && !sameSet(setting, existing.partitionKey)) {
      throw new ConfigError(
        `cassandra setting \`partitionKey\` (${setting.join(', ')}): target table \`${target.table}\` exists, partitioned by (${existing.partitionKey.join(', ')}); leave the setting out, or recreate the table (\`writeMode: 'recreate'\`)`,
      )
    }
  }

  async prepare(plan: PreparePlan): Promise<TableSchema> {
    this.#writable()
    const connection = this.#connection
    await connection.ensureKeyspace()
    const name = connection.table(plan.table)
    if (plan.mode === 'recreate') await connection.execute(`DROP TABLE IF EXISTS ${name}`)
    const existing = plan.mode === 'recreate' ? undefined : await describeCassandra(connection, plan.table)
    if (existing && plan.mode === 'truncate') await connection.execute(`TRUNCATE ${name}`)
    if (!existing) await connection.execute(createTableCql(connection, plan.schema, partitionColumns(plan.schema, connection.settings.partitionKey)))
    const table = existing ?? (await describeCassandra(connection, plan.table))
    if (!table) throw await connection.missing(plan.table)
    this.#tables.set(plan.table, table)
    return table.schema
  }

  async #table(name: string): Promise<CassandraTable> {
    const known = this.#tables.get(name) ?? (await describeCassandra(this.#connection, name))
    if (!known) throw await this.#connection.missing(name)
    this.#tables.set(name, known)
    return known
  }

  async write(target: WriteTarget, rows: readonly Row[], kind: WriteKind): Promise<WriteResult> {
    this.#writable()
    return writeRows(this.#connection, await this.#table(target.table), target, rows, kind)
  }

  /** Rows under a filter of CQL relations (`targetWhere`), counted by token range in parallel. */
  async count(table: string, filter?: string): Promise<number> {
    return countRows(this.#connection, await this.#table(table), filter, this.#connection.settings.concurrency)
  }

  /** Rows by primary key, one single-partition query each, `concurrency` at once. */
  async lookup(target: WriteTarget, keys: readonly KeyTuple[]): Promise<Row[]> {
    const table = await this.#table(target.table)
    const column = (name: string) => table.schema.columns.find((c) => c.name === name)!
    const select = `SELECT ${target.columns.map((c) => quote(c.name)).join(', ')} FROM ${this.#connection.table(target.table)} WHERE ${target.key.map((k) => `${quote(k)} = ?`).join(' AND ')}`
    const found = await mapConcurrently(keys, this.#connection.settings.concurrency, async (tuple) => {
      let values: unknown[]
      try {
        values = tuple.map((v, i) => encodeValue(v, table.types.get(target.key[i]!)!, column(target.key[i]!)))
      } catch (err) {
        // A key no row of this table can have is not found.
        if (err instanceof Refusal) return []
        throw err
      }
      return (await this.#connection.execute(select, values)).rows.map((r) => decoded(r, target.columns.map((c) => column(c.name)), table))
    })
    return found.flat()
  }

  /** One CQL statement, for `before`/`after` steps: `ctx.sql('ALTER TABLE users WITH gc_grace_seconds = 3600')`. */
  async execute(statement: string): Promise<void> {
    this.#writable()
    await this.#connection.execute(statement, [], { prepare: false })
  }

  /** Cassandra has no read-only session: a sink opened so (dry runs, `--check`) refuses to write itself. */
  #writable(): void {
    if (this.options.readOnly) throw new ConfigError(`the ${this.#connection.place} is opened read-only (a dry run or a check): nothing is written`)
  }

  nativeType(column: ColumnInfo): string {
    return cqlTypeFor(column)
  }

  classify(err: unknown): FailureKind {
    return classifyCassandraError(err)
  }

  close(): Promise<void> {
    return this.#connection.close()
  }
}

function decoded(source: Record<string, unknown>, columns: readonly ColumnInfo[], table: CassandraTable): Row {
  const row: Row = {}
  for (const c of columns) row[c.name] = decodeValue(source[c.name], table.types.get(c.name)!, c)
  return row
}
