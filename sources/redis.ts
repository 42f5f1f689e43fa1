import type { ConnectionOptions } from '../src/endpoint.js'
import { classifyRedisError, countKeys, RedisConnection, scanKeys } from '../src/engines/redis/redis-connection.js'
import { KeySet } from '../src/engines/redis/redis-keyset.js'
import { keyPattern } from '../src/engines/redis/redis-pattern.js'
import { keyRow, readRaw, readRows } from '../src/engines/redis/redis-read.js'
import type { RedisTable } from '../src/engines/redis/redis-schema.js'
import { redisSettings } from '../src/engines/redis/redis-settings.js'
import { ConfigError, type FailureKind, MissingTableError } from '../src/errors.js'
import type { Filter, Page, ReadSpec, Source, TableRead } from '../src/source.js'
import type { Json, Row, TableSchema } from '../src/types.js'

export function createSource(connection: string | ConnectionOptions): RedisSource {
  return new RedisSource(new RedisConnection(redisSettings(connection)))
}

/** Where a read stands: the SCAN cursor to continue from, or the end of the scan. */
type Position = { readonly cursor: string } | { readonly end: true }

/** SCAN calls gathered into one page at most: a sparse pattern still hands pages over, and its position moves. */
const maxScansPerPage = 50

/**
 * Reads a key pattern (`user:{user_id}`) of one Redis server with SCAN MATCH: each key a row, its
 * parts the key columns, its value decoded as the pattern's schema record (or a sample) says.
 *
 * One partition: a single server's SCAN cursor cannot be cut into ranges (a cursor the server did
 * not hand out is undefined behaviour), so parallel runs read with one worker. A position is the
 * cursor after a page. SCAN may return a key twice when the keyspace is resized meanwhile: a read
 * drops keys it has already handed over (keeping them in memory), and a read resumed from a cursor,
 * which cannot know what the stopped one handed over, is written with upserts (`resumeRepeats`).
 * Rows come in the server's hash order, not key order: nothing in ferry depends on it.
 */
export class RedisSource implements Source {
  readonly engine = 'redis'
  readonly resumeRepeats = true
  readonly #connection: RedisConnection
  readonly #tables = new Map<string, Promise<RedisTable>>()

  constructor(connection: RedisConnection) {
    this.#connection = connection
  }

  open(): Promise<void> {
    return this.#connection.open()
  }

  /** Sampled once per pattern: every read of this source decodes by the schema it described. */
  #table(name: string): Promise<RedisTable> {
    let table = this.#tables.get(name)
    if (!table) {
      table = this.#connection.table(name).then((t) => t ?? Promise.reject(new MissingTableError(name, `the ${this.#connection.place} (no key matches \`${keyPattern(name).glob}\`)`)))
      table.catch(() => this.#tables.delete(name))
      this.#tables.set(name, table)
    }
    return table
  }

  async describe(table: string): Promise<TableSchema> {
    return (await this.#table(table)).schema
  }

  async count(table: string, filter?: Filter): Promise<number> {
    noFilter(table, filter)
    return countKeys(await this.#connection.client(), keyPattern(table))
  }

  async partitions(read: TableRead): Promise<Json[]> {
    noFilter(read.table, read.filter)
    return [{}]
  }

  /** Key parts are never NULL: a key always has them. */
  async hasNullKey(): Promise<boolean> {
    return false
  }

  async *read(spec: ReadSpec): AsyncGenerator<Page> {
    noFilter(spec.table, spec.filter)
    const table = await this.#table(spec.table)
    const after = spec.after as Position | undefined
    if (after && 'end' in after) return
    const redis = await this.#connection.client()
    const keysOnly = spec.columns?.every((c) => table.pattern.columns.includes(c)) === true
    const fetch = (keys: string[]): Promise<Row[]> =>
      keysOnly ? Promise.resolve(keys.map((k) => keyRow(table, k))) : spec.passthrough ? readRaw(redis, table, keys) : readRows(redis, table, keys)
    const seen = new KeySet()
    let pending: string[] = []
    let scans = 0
    for await (const { keys, cursor } of scanKeys(redis, table.pattern, after?.cursor ?? '0', Math.max(spec.pageSize, 100))) {
      for (const key of keys) if (seen.add(key)) pending.push(key)
      if (cursor !== '0' && pending.length < spec.pageSize && ++scans < maxScansPerPage) continue
      const rows = pending.length ? await fetch(pending) : []
      yield { rows, position: cursor === '0' ? { end: true } : { cursor } }
      pending = []
      scans = 0
    }
  }

  classify(err: unknown): FailureKind {
    return classifyRedisError(err)
  }

  close(): Promise<void> {
    return this.#connection.close()
  }
}

function noFilter(table: string, filter: Filter | undefined): void {
  if (filter !== undefined) throw new ConfigError(`setting \`where\`: a Redis source takes no filter; its key pattern \`${table}\` selects the keys`)
}
