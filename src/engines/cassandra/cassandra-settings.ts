import type { ConnectionOptions } from '../../endpoint.js'
import { ConfigError } from '../../errors.js'
import { redactUrl } from '../../redact.js'
import type { Filter } from '../../source.js'

/** Consistency levels by their CQL names, as the driver numbers them (`types.consistencies`). */
export const consistencyLevels = {
  ANY: 0,
  ONE: 1,
  TWO: 2,
  THREE: 3,
  QUORUM: 4,
  ALL: 5,
  LOCAL_QUORUM: 6,
  EACH_QUORUM: 7,
  LOCAL_ONE: 10,
} as const

export type Consistency = keyof typeof consistencyLevels

/**
 * ferry's settings for a Cassandra keyspace, from URL parameters
 * (`cassandra://user:pass@host1:9042,host2:9042/keyspace?consistency=ONE`) or connection options
 * (`{ engine: 'cassandra', contactPoints: ['host1:9042'], keyspace, consistency: 'ONE', … }`, the
 * others going to the driver). Driver-free, so that a pipeline's settings are checked before any
 * connection opens.
 */
export interface CassandraSettings {
  /** `host:port` of each node the driver first contacts. */
  readonly contactPoints: readonly string[]
  readonly keyspace: string
  /** The datacenter whose nodes serve requests (`datacenter1`, Cassandra's default name, unless said). */
  readonly localDataCenter: string
  /** Of reads and writes; LWT inserts use LOCAL_SERIAL (LOCAL_*) or SERIAL as their serial level. */
  readonly consistency: Consistency
  /** Target: the key columns that form the partition key of a table ferry creates; undefined: the first. */
  readonly partitionKey?: readonly string[]
  /** Statements (rows, or batches of one partition's rows) in flight at once per connection. */
  readonly concurrency: number
  /** Target: NULL written as NULL (a tombstone; `write`), or left unset (`unset`: no tombstone, an existing value stays). */
  readonly nulls: 'write' | 'unset'
  /** Target: `insert` writes `INSERT … IF NOT EXISTS` (a lightweight transaction: slow), refusing existing keys. */
  readonly ifNotExists: boolean
  /** Target: a missing keyspace is created with NetworkTopologyStrategy and this many replicas in the local datacenter. */
  readonly replicationFactor?: number
  readonly credentials?: { readonly username: string; readonly password: string }
  /** Everything else the connection options carried (sslOptions, socketOptions, pooling…), for the driver. */
  readonly driverOptions: Readonly<Record<string, unknown>>
  /** `cassandra keyspace \`shop\` at 127.0.0.1:9042`, for messages. */
  readonly place: string
}

const ferryParams = ['consistency', 'localDataCenter', 'partitionKey', 'concurrency', 'nulls', 'ifNotExists', 'replicationFactor'] as const
type Own = Partial<Record<(typeof ferryParams)[number], unknown>>
const usage = 'cassandra://[user:password@]host[:port][,host[:port]…]/keyspace[?consistency=LOCAL_QUORUM]'

export function cassandraSettings(connection: string | ConnectionOptions): CassandraSettings {
  const given = typeof connection === 'string' ? fromUrl(connection) : fromOptions(connection)
  const { own, contactPoints, keyspace } = given
  if (contactPoints.length === 0) throw new ConfigError(`the cassandra connection names no host; expected ${usage}`)
  if (keyspace === '') throw new ConfigError(`the cassandra connection names no keyspace: add it to the path; expected ${usage}`)
  if (!/^\w{1,48}$/.test(keyspace)) {
    throw new ConfigError(`cassandra keyspace \`${keyspace}\`: a keyspace name is 1 to 48 letters, digits and underscores; expected ${usage}`)
  }
  const partitionKey = own.partitionKey === undefined ? undefined : names('partitionKey', own.partitionKey)
  return {
    contactPoints,
    keyspace,
    localDataCenter: own.localDataCenter === undefined ? 'datacenter1' : String(own.localDataCenter),
    consistency: consistency(own.consistency ?? 'LOCAL_QUORUM'),
    ...(partitionKey && { partitionKey }),
    concurrency: own.concurrency === undefined ? 64 : wholeNumber('concurrency', own.concurrency, 1, 2048),
    nulls: oneOf('nulls', own.nulls ?? 'write', ['write', 'unset'] as const),
    ifNotExists: flag('ifNotExists', own.ifNotExists ?? false),
    ...(own.replicationFactor !== undefined && { replicationFactor: wholeNumber('replicationFactor', own.replicationFactor, 1, 100) }),
    ...(given.credentials && { credentials: given.credentials }),
    driverOptions: given.driverOptions,
    place: `cassandra keyspace \`${keyspace}\` at ${contactPoints.join(',')}`,
  }
}

interface Given {
  own: Own
  contactPoints: string[]
  keyspace: string
  credentials?: { username: string; password: string }
  driverOptions: Record<string, unknown>
}

function fromUrl(text: string): Given {
  // Several hosts (`h1:9042,h2:9042`) make no WHATWG URL: the parts are cut by hand.
  const m = /^cassandra:\/\/(?:([^@/?#]*)@)?([^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(text)
  if (!m) throw new ConfigError(`\`${redactUrl(text)}\` is not a cassandra URL; expected ${usage}`)
  const [user, password] = (m[1] ?? '').split(/:(.*)/s).map((p) => decodeURIComponent(p))
  const own: Own = {}
  const driverOptions: Record<string, unknown> = {}
  for (const [name, value] of new URLSearchParams(m[4] ?? '')) {
    if ((ferryParams as readonly string[]).includes(name)) own[name as keyof Own] = value
    else if (name === 'ssl') driverOptions.sslOptions = flag('ssl', value) ? {} : undefined
    else throw new ConfigError(`cassandra URL parameter \`${name}\` is unknown; known: ${[...ferryParams, 'ssl'].join(', ')}`)
  }
  return {
    own,
    contactPoints: hosts(m[2] ?? ''),
    keyspace: decodeURIComponent(m[3] ?? ''),
    ...(user && { credentials: { username: user, password: password ?? '' } }),
    driverOptions: Object.fromEntries(Object.entries(driverOptions).filter(([, v]) => v !== undefined)),
  }
}

function fromOptions(connection: ConnectionOptions): Given {
  const { engine: _, contactPoints, keyspace, credentials, ...rest } = connection
  const own: Own = {}
  const driverOptions: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(rest)) {
    if ((ferryParams as readonly string[]).includes(name)) own[name as keyof Own] = value
    else driverOptions[name] = value
  }
  if (!Array.isArray(contactPoints)) throw new ConfigError("cassandra connection options need `contactPoints`, e.g. ['127.0.0.1:9042']")
  if (typeof keyspace !== 'string') throw new ConfigError('cassandra connection options need a `keyspace`')
  const login = credentials as { username?: unknown; password?: unknown } | undefined
  return {
    own,
    contactPoints: contactPoints.map((p) => (String(p).includes(':') ? String(p) : `${String(p)}:9042`)),
    keyspace,
    ...(login && { credentials: { username: String(login.username ?? ''), password: String(login.password ?? '') } }),
    driverOptions,
  }
}

function hosts(text: string): string[] {
  return text
    .split(',')
    .filter((h) => h !== '')
    .map((h) => (/:\d+$/.test(h) ? h : `${h}:9042`))
}

function consistency(value: unknown): Consistency {
  const name = String(value).toUpperCase()
  if (name in consistencyLevels) return name as Consistency
  throw new ConfigError(`cassandra setting \`consistency\`: expected one of ${Object.keys(consistencyLevels).join(', ')}, got ${String(value)}`)
}

function names(setting: string, value: unknown): string[] {
  const list = Array.isArray(value) ? value.map(String) : String(value).split(',').map((n) => n.trim())
  if (list.length === 0 || list.some((n) => n === '')) throw new ConfigError(`cassandra setting \`${setting}\`: expected column names separated by commas, got ${JSON.stringify(value)}`)
  return list
}

function wholeNumber(setting: string, value: unknown, min: number, max: number): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`cassandra setting \`${setting}\`: expected a whole number from ${min} to ${max}, got ${String(value)}`)
  return n
}

function oneOf<T extends string>(setting: string, value: unknown, allowed: readonly T[]): T {
  if ((allowed as readonly unknown[]).includes(value)) return value as T
  throw new ConfigError(`cassandra setting \`${setting}\`: expected ${allowed.join(' or ')}, got ${String(value)}`)
}

function flag(setting: string, value: unknown): boolean {
  if (value === true || value === 'true') return true
  if (value === false || value === 'false') return false
  throw new ConfigError(`cassandra setting \`${setting}\`: expected true or false, got ${String(value)}`)
}

/** Table names Cassandra accepts, quoted or not: 1 to 48 letters, digits and underscores. */
export function checkTableName(table: string, setting: string): void {
  if (!/^\w{1,48}$/.test(table)) {
    throw new ConfigError(`setting \`${setting}\`: \`${table}\` cannot name a Cassandra table (1 to 48 letters, digits and underscores)`)
  }
}

/**
 * What a pipeline gives a Cassandra database, checked before any connection opens: the URL's
 * settings, the table's name, and a filter, which is CQL text (relations joined by AND).
 */
export function checkCassandraSettings(connection: string | ConnectionOptions, role: 'source' | 'target', table: string, filter: Filter | undefined): void {
  cassandraSettings(connection)
  checkTableName(table, role === 'source' ? 'sourceTable' : 'targetTable')
  if (filter !== undefined && typeof filter !== 'string') {
    throw new ConfigError('setting `where`: a Cassandra source takes CQL relations as text (`status = \'active\' AND total > 10`), not a document')
  }
}
