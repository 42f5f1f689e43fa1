import { type Collection, type Db, type Document, MongoClient, type MongoClientOptions } from 'mongodb'
import type { ConnectionOptions } from '../../endpoint.js'
import { ConfigError, ConnectionError } from '../../errors.js'
import { redactUrl } from '../../redact.js'

/**
 * ferry's own settings of a MongoDB connection, given as URL parameters
 * (`mongodb://host/db?decimals=string`) or as connection options; the driver never sees them.
 */
export interface MongoSettings {
  /**
   * Documents read to infer a collection's fields and their types: half from the start of the
   * `_id` order, half from its end (where fields added later show). 0 reads every document.
   */
  readonly sampleSize: number
  /**
   * How decimals are stored: `decimal128`, or `string` for servers without Decimal128 (FerretDB).
   * Undefined: `decimal128`, unless the server is FerretDB.
   */
  readonly decimals?: 'decimal128' | 'string'
  /**
   * Timestamps with digits past the millisecond, which a BSON date cannot hold: `refuse` them as
   * rejected rows (default), or `truncate` them to the millisecond.
   */
  readonly subMillisecond: 'refuse' | 'truncate'
}

const defaults: MongoSettings = { sampleSize: 1000, subMillisecond: 'refuse' }

/** What a `mongodb://` URL or `{ engine: 'mongodb', url, … }` options say. */
export interface MongoConfig {
  /** The URL the driver gets, without ferry's parameters. */
  readonly url: string
  readonly database: string
  readonly settings: MongoSettings
  readonly driverOptions: MongoClientOptions
}

const ours = new Set(['sampleSize', 'decimals', 'subMillisecond'])

export function mongoConfig(connection: string | ConnectionOptions): MongoConfig {
  if (typeof connection === 'string') return fromUrl(connection, {})
  const { engine: _, url, database, sampleSize, decimals, subMillisecond, ...driverOptions } = connection
  if (typeof url !== 'string') throw new ConfigError('mongodb connection options need a `url` (mongodb://host:27017/database)')
  const config = fromUrl(url, driverOptions as MongoClientOptions, typeof database === 'string' ? database : undefined)
  const given = Object.entries({ sampleSize, decimals, subMillisecond }).filter(([, v]) => v !== undefined)
  return { ...config, settings: settingsFrom(Object.fromEntries(given.map(([k, v]) => [k, String(v)])), config.settings) }
}

function fromUrl(url: string, driverOptions: MongoClientOptions, databaseOption?: string): MongoConfig {
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?#]*)(?:\/([^?#]*))?(?:\?([^#]*))?$/i.exec(url)
  if (!match) throw new ConfigError(`\`${redactUrl(url)}\` is not a mongodb:// URL (mongodb://host:27017/database)`)
  const params = new URLSearchParams(match[3] ?? '')
  const mine: Record<string, string> = {}
  for (const name of ours) {
    const value = params.get(name)
    if (value !== null) mine[name] = value
    params.delete(name)
  }
  const database = databaseOption ?? decodeURIComponent(match[2] ?? '')
  if (!database) {
    throw new ConfigError(`\`${redactUrl(url)}\` names no database: add it to the path (mongodb://host:27017/database)`)
  }
  const query = params.toString()
  return {
    url: `${match[1]}/${match[2] ?? ''}${query ? `?${query}` : ''}`,
    database,
    settings: settingsFrom(mine, defaults),
    driverOptions,
  }
}

function settingsFrom(given: Record<string, string>, base: MongoSettings): MongoSettings {
  let settings = base
  if (given.sampleSize !== undefined) {
    const n = Number(given.sampleSize)
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`mongodb setting \`sampleSize\`: expected a whole number, 0 or more (0: every document), got ${given.sampleSize}`)
    settings = { ...settings, sampleSize: n }
  }
  if (given.decimals !== undefined) {
    if (given.decimals !== 'decimal128' && given.decimals !== 'string') {
      throw new ConfigError(`mongodb setting \`decimals\`: expected decimal128 or string, got ${given.decimals}`)
    }
    settings = { ...settings, decimals: given.decimals }
  }
  if (given.subMillisecond !== undefined) {
    if (given.subMillisecond !== 'refuse' && given.subMillisecond !== 'truncate') {
      throw new ConfigError(`mongodb setting \`subMillisecond\`: expected refuse or truncate, got ${given.subMillisecond}`)
    }
    settings = { ...settings, subMillisecond: given.subMillisecond }
  }
  return settings
}

/** What the server can do, learned when the connection opens. */
export interface ServerTraits {
  /**
   * FerretDB (the MongoDB wire protocol over SQLite or PostgreSQL): no Decimal128, NaN closes the
   * connection, `$in` reads the whole collection while equality on a string, ObjectId or integer
   * `_id` uses its index.
   */
  readonly ferretdb: boolean
  readonly version: string
}

/** One MongoClient (its own pool) on one database. */
export class MongoConnection {
  #client?: MongoClient
  #db?: Db
  #traits?: ServerTraits
  #closed = false

  constructor(readonly config: MongoConfig) {}

  get place(): string {
    return `mongodb database \`${this.config.database}\``
  }

  async open(): Promise<void> {
    // The driver waits 30 s for a server by default; a wrong URL should fail sooner.
    const client = new MongoClient(this.config.url, { serverSelectionTimeoutMS: 10_000, ...this.config.driverOptions })
    await client.connect()
    try {
      const info = await client.db('admin').command({ buildInfo: 1 })
      this.#traits = { ferretdb: 'ferretdbVersion' in info || 'ferretdbFeatures' in info, version: String(info.version) }
    } catch (err) {
      await client.close().catch(() => {})
      throw err
    }
    this.#client = client
    this.#db = client.db(this.config.database)
    this.#closed = false
  }

  get traits(): ServerTraits {
    if (!this.#traits) throw new Error('MongoConnection used before open()')
    return this.#traits
  }

  /** The decimals setting, resolved against the server. */
  get decimals(): 'decimal128' | 'string' {
    const setting = this.config.settings.decimals
    if (setting === 'decimal128' && this.traits.ferretdb) {
      throw new ConfigError(`${this.place}: the server is FerretDB, which has no Decimal128; set decimals=string`)
    }
    return setting ?? (this.traits.ferretdb ? 'string' : 'decimal128')
  }

  get db(): Db {
    if (this.#closed) throw new ConnectionError(`the connection to the ${this.place} is closed`)
    if (!this.#db) throw new Error('MongoConnection used before open()')
    return this.#db
  }

  collection(name: string): Collection<Document> {
    return this.db.collection(name)
  }

  /** Whether the collection (or view) exists, and which it is. */
  async kind(name: string): Promise<'collection' | 'view' | undefined> {
    const [found] = await this.db.listCollections({ name }, { nameOnly: false }).toArray()
    if (!found) return undefined
    return found.type === 'view' ? 'view' : 'collection'
  }

  async close(): Promise<void> {
    this.#closed = true
    const client = this.#client
    this.#client = undefined
    await client?.close().catch(() => {})
  }
}
