import type { ConnectionOptions, Endpoint } from '../endpoint.js'
import { ConfigError, ConnectionError, messageOf } from '../errors.js'
import { redactUrl } from '../redact.js'
import type { Sink, SinkOptions } from '../sink.js'
import type { Filter, Source } from '../source.js'
import { checkCassandraSettings } from './cassandra/cassandra-settings.js'
import { checkElasticsearchSettings } from './elasticsearch/elasticsearch-settings.js'
import { checkRedisSettings } from './redis/redis-settings.js'

type Connection = string | ConnectionOptions

/**
 * Checks what a pipeline gives an engine before any connection opens (its own URL settings, a
 * table name that must have a form of its own, a filter it does not take); throws `ConfigError`.
 */
type SettingsCheck = (connection: Connection, role: 'source' | 'target', table: string, filter: Filter | undefined) => void

/**
 * The engines ferry knows: the URL schemes that name each, and where its source and sink are.
 * Loaded lazily, so that a pipeline needs only the drivers of the engines it names.
 */
const engines: Record<string, {
  readonly schemes: readonly string[]
  readonly source: () => Promise<{ createSource(connection: Connection): Source }>
  readonly sink: () => Promise<{ createSink(connection: Connection, options?: SinkOptions): Sink }>
  /** Driver-free, so not loaded lazily. */
  readonly check?: SettingsCheck
}> = {
  sqlite: {
    schemes: ['sqlite'],
    source: () => import('../../sources/sqlite.js'),
    sink: () => import('../../sinks/sqlite.js'),
  },
  postgres: {
    schemes: ['postgres', 'postgresql'],
    source: () => import('../../sources/postgres.js'),
    sink: () => import('../../sinks/postgres.js'),
  },
  mysql: {
    schemes: ['mysql', 'mariadb'],
    source: () => import('../../sources/mysql.js'),
    sink: () => import('../../sinks/mysql/mysql-sink.js'),
  },
  redis: {
    schemes: ['redis', 'rediss'],
    source: () => import('../../sources/redis.js'),
    sink: () => import('../../sinks/redis/redis-sink.js'),
    check: checkRedisSettings,
  },
  mongodb: {
    schemes: ['mongodb', 'mongodb+srv'],
    source: () => import('../../sources/mongodb.js'),
    sink: () => import('../../sinks/mongodb/mongodb-sink.js'),
  },
  elasticsearch: {
    // Not http(s)://, which any HTTP service answers to: the scheme says which database it is.
    schemes: ['elasticsearch', 'elasticsearch+https'],
    source: () => import('../../sources/elasticsearch.js'),
    sink: () => import('../../sinks/elasticsearch/elasticsearch-sink.js'),
    check: checkElasticsearchSettings,
  },
  cassandra: {
    schemes: ['cassandra'],
    source: () => import('../../sources/cassandra.js'),
    sink: () => import('../../sinks/cassandra/cassandra-sink.js'),
    check: checkCassandraSettings,
  },
  // The drivers of these two (mssql, oracledb) are optional packages, loaded when a connection opens.
  mssql: {
    schemes: ['mssql', 'sqlserver'],
    source: () => import('../../sources/mssql.js'),
    sink: () => import('../../sinks/mssql/mssql-sink.js'),
  },
  oracle: {
    schemes: ['oracle'],
    source: () => import('../../sources/oracle.js'),
    sink: () => import('../../sinks/oracle/oracle-sink.js'),
  },
}

export const knownEngines = Object.keys(engines)

/** The engine named by a URL's scheme (`postgres://…` → `postgres`), or undefined. */
export function engineOf(url: string): string | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase()
  return scheme === undefined ? undefined : knownEngines.find((e) => engines[e]!.schemes.includes(scheme))
}

/** What an unknown URL may have meant: `http(s)://` is every HTTP service's scheme, not a database's. */
export function schemeHint(connection: unknown): string {
  return typeof connection === 'string' && /^https?:/i.test(connection) ? ' (an Elasticsearch node is elasticsearch://host:9200, or elasticsearch+https://)' : ''
}

function entry(connection: Connection) {
  const engine = typeof connection === 'string' ? engineOf(connection) : connection.engine
  const found = engine === undefined ? undefined : engines[engine]
  if (!found) {
    throw new ConfigError(`unknown database in \`${describeEndpoint(connection)}\`${schemeHint(connection)}; known: ${knownEngines.join(', ')}`)
  }
  return found
}

/** Runs the engine's own check of a table's settings; factories are not checked. */
export function checkEndpoint(endpoint: Endpoint<unknown>, role: 'source' | 'target', table: string, filter: Filter | undefined): void {
  if (typeof endpoint === 'function') return
  entry(endpoint as Connection).check?.(endpoint as Connection, role, table, filter)
}

/** Creates and opens a source; an unreachable database becomes a `ConnectionError` naming it. */
export async function openSource(endpoint: Endpoint<Source>): Promise<Source> {
  const source = typeof endpoint === 'function' ? endpoint() : (await entry(endpoint).source()).createSource(endpoint)
  await openOrExplain(source, 'source', endpoint)
  return source
}

/** Creates and opens a sink; a factory endpoint makes its own and gets no options. */
export async function openSink(endpoint: Endpoint<Sink>, options: SinkOptions = {}): Promise<Sink> {
  const sink = typeof endpoint === 'function' ? endpoint() : (await entry(endpoint).sink()).createSink(endpoint, options)
  await openOrExplain(sink, 'target', endpoint)
  return sink
}

/**
 * A source and a sink of their own, as each worker and each dry-run table needs; the sink commits
 * durably when checkpoints cover its commits, and cannot write at all with `readOnly` (dry runs).
 */
export async function openConnections(
  s: {
    source: Endpoint<Source>
    target: Endpoint<Sink>
    checkpoints?: boolean
    foreignKeyChecks?: boolean
  },
  options: { readOnly?: boolean } = {},
): Promise<{ source: Source; sink: Sink }> {
  const source = await openSource(s.source)
  try {
    const sinkOptions = { durableCommits: s.checkpoints === true, readOnly: options.readOnly ?? false, ...(s.foreignKeyChecks === false && { foreignKeyChecks: false }) }
    return { source, sink: await openSink(s.target, sinkOptions) }
  } catch (err) {
    await source.close()
    throw err
  }
}

/** Opens the target database as a source, to read back what was written (naming extra rows). */
export async function openTargetAsSource(endpoint: Endpoint<Sink>): Promise<Source | undefined> {
  if (typeof endpoint === 'function') return undefined
  return openSource(endpoint)
}

async function openOrExplain(db: { open(): Promise<void> }, role: string, endpoint: Endpoint<unknown>): Promise<void> {
  try {
    await db.open()
  } catch (err) {
    throw new ConnectionError(`cannot open the ${role} database \`${describeEndpoint(endpoint)}\`: ${messageOf(err)}`, {
      cause: err,
    })
  }
}

export function describeEndpoint(endpoint: Endpoint<unknown>): string {
  if (typeof endpoint === 'string') return redactUrl(endpoint)
  if (typeof endpoint === 'function') return endpoint.name || 'factory'
  return `${endpoint.engine} connection options`
}
