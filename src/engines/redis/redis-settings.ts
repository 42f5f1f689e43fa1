import type { RedisOptions } from 'ioredis'
import type { ConnectionOptions } from '../../endpoint.js'
import { ConfigError } from '../../errors.js'
import type { Filter } from '../../source.js'
import { keyPattern } from './redis-pattern.js'

/** How a Redis target stores a row: a hash of fields (default) or one JSON object in a string. */
export type ValueFormat = 'hash' | 'json'

/**
 * ferry's settings for a Redis database, from URL parameters
 * (`redis://127.0.0.1:6379/0?valueFormat=json&ttl=3600`) or connection options
 * (`{ engine: 'redis', host, port, db, valueFormat: 'json', ttl: 3600 }`). Driver-free, so that a
 * pipeline's settings are checked before any connection opens.
 */
export interface RedisSettings {
  /** What ioredis is given, ferry's own settings taken out. */
  readonly options: RedisOptions
  /** Target: how rows are stored; undefined: as the pattern's schema record says, else `hash`. */
  readonly valueFormat?: ValueFormat
  /** Target: seconds each written key lives; undefined: no expiry set (a copied key keeps its own). */
  readonly ttl?: number
  /** Source: keys sampled to infer the columns of a pattern without a schema record. */
  readonly sample: number
  /** `redis database 0 at 127.0.0.1:6379`, for messages. */
  readonly place: string
}

const ferryParams = ['valueFormat', 'ttl', 'sample'] as const
// URL parameters passed on to ioredis as they are; others are refused rather than ignored.
const driverParams = ['family', 'connectionName']
const defaultSample = 1000

export function redisSettings(connection: string | ConnectionOptions): RedisSettings {
  const { options, own } = typeof connection === 'string' ? fromUrl(connection) : fromOptions(connection)
  const db = options.db ?? 0
  const place = `redis database ${db} at ${options.host ?? '127.0.0.1'}:${options.port ?? 6379}`
  return {
    options,
    ...(own.valueFormat !== undefined && { valueFormat: valueFormat(own.valueFormat) }),
    ...(own.ttl !== undefined && { ttl: wholeNumber('ttl', own.ttl, 1) }),
    sample: own.sample === undefined ? defaultSample : own.sample === 'all' ? Infinity : wholeNumber('sample', own.sample, 1),
    place,
  }
}

type Own = Partial<Record<(typeof ferryParams)[number], unknown>>

function fromUrl(text: string): { options: RedisOptions; own: Own } {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new ConfigError('the redis URL cannot be parsed; expected redis://[user:password@]host[:port][/db][?valueFormat=json&ttl=3600]')
  }
  const own: Own = {}
  const options: RedisOptions = {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
    db: database(decodeURIComponent(url.pathname.slice(1)) || '0'),
    ...(url.username && { username: decodeURIComponent(url.username) }),
    ...(url.password && { password: decodeURIComponent(url.password) }),
    ...(url.protocol === 'rediss:' && { tls: {} }),
  }
  for (const [name, value] of url.searchParams) {
    if ((ferryParams as readonly string[]).includes(name)) own[name as keyof Own] = value
    else if (name === 'password' || name === 'username') options[name] = value
    else if (driverParams.includes(name)) (options as Record<string, unknown>)[name] = name === 'family' ? Number(value) : value
    else throw new ConfigError(`redis URL parameter \`${name}\` is unknown; known: ${[...ferryParams, ...driverParams, 'username', 'password'].join(', ')}`)
  }
  return { options, own }
}

function fromOptions(connection: ConnectionOptions): { options: RedisOptions; own: Own } {
  const { engine: _, valueFormat, ttl, sample, ...rest } = connection
  const options = rest as RedisOptions
  if (options.db !== undefined) database(String(options.db))
  return { options, own: { valueFormat, ttl, sample } }
}

function database(text: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new ConfigError(`redis database \`${text}\` is not a database number (redis://host:6379/0)`)
  return Number(text)
}

function valueFormat(value: unknown): ValueFormat {
  if (value === 'hash' || value === 'json') return value
  throw new ConfigError(`redis setting \`valueFormat\` must be \`hash\` or \`json\` (got ${JSON.stringify(value)})`)
}

function wholeNumber(name: string, value: unknown, min: number): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= min) return n
  throw new ConfigError(`redis setting \`${name}\` must be a whole number of at least ${min}${name === 'sample' ? ' or `all`' : ''} (got ${JSON.stringify(value)})`)
}

/**
 * Checks, before any connection opens, what a pipeline gives a Redis endpoint: its settings, its
 * table as a key pattern, and that no filter is set (the pattern selects the keys).
 */
export function checkRedisSettings(
  connection: string | ConnectionOptions,
  role: 'source' | 'target',
  table: string,
  filter: Filter | undefined,
): void {
  const settings = redisSettings(connection)
  keyPattern(table, role === 'source' ? 'sourceTable' : 'targetTable')
  if (filter !== undefined) {
    const setting = role === 'source' ? 'where' : 'targetWhere'
    throw new ConfigError(`setting \`${setting}\`: a Redis ${role} takes no filter; its key pattern \`${table}\` selects the keys`)
  }
  if (role === 'source' && (settings.valueFormat !== undefined || settings.ttl !== undefined)) {
    throw new ConfigError('redis settings `valueFormat` and `ttl` are for a target; a source reads each key as it is stored')
  }
}
