import cassandra from 'cassandra-driver'
import { ConfigError, ConnectionError, MissingTableError } from '../../errors.js'
import type { CassandraSettings } from './cassandra-settings.js'
import { consistencyLevels } from './cassandra-settings.js'

export type CassandraClient = cassandra.Client
export type ResultSet = cassandra.types.ResultSet
export type TableMetadata = Awaited<ReturnType<cassandra.metadata.Metadata['getTable']>>

/** Options of one request, as ferry uses them. */
export interface RequestOptions {
  /** False for statements sent as they are (`before`/`after` steps); true by default. */
  readonly prepare?: boolean
  readonly fetchSize?: number
  readonly pageState?: string
  readonly readTimeout?: number
}

/** Quotes a CQL identifier: quoted names keep their case and may hold any character. */
export const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`

/**
 * One driver client (its own pool) on one keyspace. Every request is prepared (the driver caches
 * the statement) and runs at the setting's consistency; 64-bit integers and varints arrive as
 * bigint. The driver reconnects lost connections by itself.
 */
export class CassandraConnection {
  #client?: CassandraClient
  #closed = false

  constructor(readonly settings: CassandraSettings) {}

  get place(): string {
    return this.settings.place
  }

  get keyspace(): string {
    return quote(this.settings.keyspace)
  }

  /** `"keyspace"."table"` */
  table(name: string): string {
    return `${this.keyspace}.${quote(name)}`
  }

  /** Connects; a keyspace that does not exist is refused unless `missingKeyspace` says it may be created. */
  async open(missingKeyspace: 'refuse' | 'allow' = 'refuse'): Promise<void> {
    const s = this.settings
    const client = new cassandra.Client({
      ...(s.driverOptions as cassandra.ClientOptions),
      contactPoints: [...s.contactPoints],
      localDataCenter: s.localDataCenter,
      ...(s.credentials && { credentials: { ...s.credentials } }),
      // Maps as Map: their keys keep their types (an object would make them text).
      encoding: { map: Map, useBigIntAsLong: true, useBigIntAsVarint: true },
      // Range reads may take the server's range_request_timeout (10 s by default) and more under load.
      socketOptions: { connectTimeout: 10_000, readTimeout: 60_000, keepAlive: true, keepAliveDelay: 30_000, ...(s.driverOptions.socketOptions as object) },
      queryOptions: {
        consistency: consistencyLevels[s.consistency],
        serialConsistency: s.consistency.startsWith('LOCAL_') ? cassandra.types.consistencies.localSerial : cassandra.types.consistencies.serial,
        prepare: true,
      },
    })
    // A host the driver drops from its map is not shut down by client.shutdown(): after every node
    // was unreachable, the driver connects again from its contact points and puts a new host in the
    // old one's place, whose pool goes on reconnecting, its timer (then its connection) keeping the
    // process alive after close(). So it is shut down when dropped (Host.shutdown is the driver's
    // internal method; `hostRemove` is public).
    client.on('hostRemove', (host: { shutdown?: (drain: boolean) => Promise<void> }) => {
      host.shutdown?.(false).catch(() => {})
    })
    try {
      await client.connect()
      const [local] = (await client.execute('SELECT partitioner FROM system.local', [], { prepare: false })).rows
      const partitioner = String(local?.partitioner ?? '')
      if (!partitioner.endsWith('Murmur3Partitioner')) {
        throw new ConfigError(`${this.place}: the cluster's partitioner is ${partitioner}; ferry reads token ranges of Murmur3Partitioner only`)
      }
      if (missingKeyspace === 'refuse' && !(await this.#keyspaceExists(client))) {
        throw new ConfigError(`${this.place} does not exist; create it, or set \`replicationFactor\` in a target URL to let ferry create it`)
      }
    } catch (err) {
      await client.shutdown().catch(() => {})
      throw explained(err)
    }
    this.#client = client
  }

  async #keyspaceExists(client: CassandraClient): Promise<boolean> {
    const found = await client.execute('SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?', [this.settings.keyspace])
    return found.rowLength > 0
  }

  get client(): CassandraClient {
    if (this.#closed) throw new ConnectionError(`the connection to the ${this.place} is closed`)
    if (!this.#client) throw new Error('CassandraConnection used before open()')
    return this.#client
  }

  execute(cql: string, params: readonly unknown[] = [], options: RequestOptions = {}): Promise<ResultSet> {
    return this.client.execute(cql, params as unknown[], { prepare: true, ...options }).catch((err: unknown) => Promise.reject(explained(err)))
  }

  /** An unlogged batch of prepared statements (rows of one partition). */
  batch(queries: readonly { query: string; params: readonly unknown[] }[]): Promise<ResultSet> {
    return this.client.batch(queries as { query: string; params: unknown[] }[], { prepare: true, logged: false }).catch((err: unknown) => Promise.reject(explained(err)))
  }

  /** Creates the keyspace when it is missing and the settings give its replication. */
  async ensureKeyspace(): Promise<void> {
    const s = this.settings
    if (await this.#keyspaceExists(this.client)) return
    if (s.replicationFactor === undefined) {
      throw new ConfigError(`${this.place} does not exist; create it, or set \`replicationFactor\` to let ferry create it`)
    }
    const replication = `{'class': 'NetworkTopologyStrategy', '${s.localDataCenter.replaceAll("'", "''")}': ${s.replicationFactor}}`
    await this.execute(`CREATE KEYSPACE IF NOT EXISTS ${this.keyspace} WITH replication = ${replication}`)
  }

  /** The table's metadata as the driver keeps it (refreshed on schema changes), or undefined. */
  async metadata(name: string): Promise<TableMetadata | undefined> {
    return (await this.client.metadata.getTable(this.settings.keyspace, name)) ?? undefined
  }

  /** A missing table, named with the one Cassandra has when only the case differs (unquoted CQL names are lowercased). */
  async missing(name: string): Promise<MissingTableError> {
    const error = new MissingTableError(name, `the ${this.place}`)
    const rows = (await this.execute('SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?', [this.settings.keyspace]).catch(() => undefined))?.rows ?? []
    const near = rows.map((r) => String(r.table_name)).find((t) => t.toLowerCase() === name.toLowerCase())
    if (near) error.message += ` (it has \`${near}\`: names are case-sensitive, and CQL lowercases names it does not quote)`
    return error
  }

  async close(): Promise<void> {
    this.#closed = true
    const client = this.#client
    this.#client = undefined
    await client?.shutdown().catch(() => {})
  }
}

/**
 * The driver's "no host available" with each node's own reason on one line (its message carries
 * the inner errors' stack traces): `127.0.0.1:9042: connect ECONNREFUSED 127.0.0.1:9042`.
 */
function explained(err: unknown): unknown {
  const inner = (err as { name?: unknown; innerErrors?: unknown }).innerErrors
  if ((err as { name?: unknown }).name !== 'NoHostAvailableError' || !inner || typeof inner !== 'object') return err
  const reasons = Object.entries(inner).map(([host, e]) => `${host}: ${String((e as Error)?.message ?? e).split('\n')[0]}`)
  if (reasons.length === 0) return err
  return new ConnectionError(`no node could take the request (${reasons.join('; ')})`, { cause: err })
}
