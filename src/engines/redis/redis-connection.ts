import { Redis } from 'ioredis'
import { ConfigError, ConnectionError, type FailureKind, messageOf, SinkWriteError } from '../../errors.js'
import { type KeyPattern, keyPattern } from './redis-pattern.js'
import { fetchKeys } from './redis-fetch.js'
import { KeySet } from './redis-keyset.js'
import { inferTable, isRecordKey, readRecord, type RedisTable, RedisValueError, type Sampled } from './redis-schema.js'
import type { RedisSettings } from './redis-settings.js'
import { isUtf8 } from './redis-values.js'

/**
 * One ioredis client. ferry's retries decide what is sent again: ioredis neither resends a command
 * whose reply was lost (an insert sent twice would refuse its own key) nor waits through
 * reconnections before failing one. A connection lost for good is reopened by the next `client()`,
 * or named as a `ConnectionError`.
 */
export class RedisConnection {
  #redis?: Redis
  #closed = false

  constructor(readonly settings: RedisSettings) {}

  get place(): string {
    return this.settings.place
  }

  async open(): Promise<void> {
    const redis = new Redis({
      ...this.settings.options,
      lazyConnect: true,
      // RESP2: every server version speaks it, and its replies are the ones decoded here.
      protocol: 2,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times: number) => (times > 5 ? null : Math.min(100 * 2 ** times, 2000)),
    })
    // Errors reach the commands that fail; without a listener ioredis would print them too. The
    // last one says why a connection failed (ECONNREFUSED), where connect() only says it closed.
    let last: Error | undefined
    redis.on('error', (err: Error) => (last = err))
    try {
      await redis.connect()
      const info = await redis.info('cluster')
      if (/cluster_enabled:1/.test(info)) {
        throw new ConfigError(`${this.place} is a Redis Cluster node, which ferry does not read or write yet (one SCAN sees only this node's slots)`)
      }
    } catch (err) {
      redis.disconnect()
      throw err instanceof ConfigError || !last ? err : last
    }
    this.#redis = redis
  }

  /** The client, reopened first when the connection was lost for good; none after `close()`. */
  async client(): Promise<Redis> {
    if (this.#closed) throw new Error(`the connection to the ${this.place} is closed`)
    if (!this.#redis) throw new Error('RedisConnection used before open()')
    if (this.#redis.status === 'end') {
      try {
        await this.open()
      } catch (err) {
        throw new ConnectionError(`the connection to the ${this.place} was lost and cannot be reopened: ${messageOf(err)}`, { cause: err })
      }
    }
    return this.#redis
  }

  /** The table a pattern names: its schema record, else what a sample of its keys holds; undefined without either. */
  async table(text: string): Promise<RedisTable | undefined> {
    const redis = await this.client()
    const pattern = keyPattern(text)
    return (await readRecord(redis, pattern)) ?? sampleTable(redis, pattern, this.settings.sample)
  }

  async close(): Promise<void> {
    this.#closed = true
    const redis = this.#redis
    this.#redis = undefined
    if (redis && redis.status !== 'end') await redis.quit().catch(() => redis.disconnect())
  }
}

/**
 * SCAN with MATCH over a pattern from a cursor: each reply's keys that are rows (UTF-8 keys the
 * pattern parses; never a schema record) and the cursor after them, `'0'` at the end.
 */
export async function* scanKeys(redis: Redis, pattern: KeyPattern, cursor: string, count: number): AsyncGenerator<{ keys: string[]; cursor: string }> {
  do {
    const [next, found] = await redis.scanBuffer(cursor, 'MATCH', pattern.glob, 'COUNT', count)
    cursor = next.toString()
    const keys: string[] = []
    for (const raw of found) {
      if (!isUtf8(raw)) throw new RedisValueError(`key 0x${raw.toString('hex')} matches \`${pattern.glob}\` but is not UTF-8 text, which a key pattern's parts must be`)
      const key = raw.toString()
      if (!isRecordKey(key) && pattern.parse(key)) keys.push(key)
    }
    yield { keys, cursor }
  } while (cursor !== '0')
}

/** The keys a pattern matches, each counted once although SCAN may return a key twice. */
export async function countKeys(redis: Redis, pattern: KeyPattern): Promise<number> {
  const seen = new KeySet()
  for await (const { keys } of scanKeys(redis, pattern, '0', 1000)) for (const key of keys) seen.add(key)
  return seen.size
}

async function sampleTable(redis: Redis, pattern: KeyPattern, size: number): Promise<RedisTable | undefined> {
  const keys = new Set<string>()
  for await (const page of scanKeys(redis, pattern, '0', 1000)) {
    for (const key of page.keys) if (keys.size < size) keys.add(key)
    if (keys.size >= size) break
  }
  if (keys.size === 0) return undefined
  const list = [...keys]
  const sample: Sampled[] = []
  // In pages: one script call per thousand keys, as a read does, even for `?sample=all`.
  for (let i = 0; i < list.length; i += 1000) {
    const page = list.slice(i, i + 1000)
    const fetched = await fetchKeys(redis, page, false)
    page.forEach((key, j) => fetched[j]!.type !== 'none' && sample.push({ key, type: fetched[j]!.type, value: fetched[j]!.value }))
  }
  return sample.length ? inferTable(pattern, sample) : undefined
}


const transientReplies = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|NOSCRIPT)\b/
const networkCodes = /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ECONNABORTED)$/

/**
 * Redis errors → what retrying can do. A lost connection (ioredis: a network code, "Connection is
 * closed", MaxRetriesPerRequestError) and a busy or loading server are transient; a key holding
 * another type (WRONGTYPE) or an existing key a RESTORE would not replace (BUSYKEY) is one row's
 * fault; anything else (NOAUTH, OOM, READONLY, a DUMP payload of another version) stops the run.
 */
export function classifyRedisError(err: unknown): FailureKind {
  if (err instanceof SinkWriteError) return err.kind
  if (err instanceof RedisValueError || err instanceof ConfigError) return 'fatal'
  const e = err as { name?: unknown; code?: unknown; message?: unknown }
  const message = typeof e.message === 'string' ? e.message : ''
  if (e.name === 'ReplyError') {
    if (transientReplies.test(message)) return 'transient'
    if (/^(WRONGTYPE|BUSYKEY)\b/.test(message)) return 'rejected'
    return 'fatal'
  }
  if (typeof e.code === 'string' && networkCodes.test(e.code)) return 'transient'
  if (e.name === 'MaxRetriesPerRequestError' || /Connection is closed|Stream isn't writeable|connect ETIMEDOUT/i.test(message)) return 'transient'
  if (err instanceof ConnectionError) return 'transient'
  return 'fatal'
}
