import type { Redis } from 'ioredis'

/** One key as read: its type (`none` when gone), its value (or DUMP), and its PTTL for a DUMP. */
export interface Fetched {
  readonly type: string
  readonly value: unknown
  readonly pttl: number
}

// One script call reads a page of keys: TYPE, then the value by its type (or DUMP and PTTL).
// Measured here on 100,000 hashes: 3× faster than a pipeline of DUMP+PTTL+TYPE, 1.4× for
// HGETALL, as ioredis pays per command. It only reads, so replicas run it too.
const readScript = `
local raw = ARGV[1] == 'raw'
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local t = redis.call('TYPE', key).ok
  local v = false
  local ttl = 0
  if raw then
    if t ~= 'none' then
      v = redis.call('DUMP', key) or false
      ttl = redis.call('PTTL', key)
    end
  elseif t == 'hash' then v = redis.call('HGETALL', key)
  elseif t == 'string' then v = redis.call('GET', key)
  elseif t == 'list' then v = redis.call('LRANGE', key, 0, -1)
  elseif t == 'set' then v = redis.call('SMEMBERS', key)
  elseif t == 'zset' then v = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  end
  out[3 * i - 2] = t
  out[3 * i - 1] = v
  out[3 * i] = ttl
end
return out`

/** Servers that refused the script (scripting disabled or not permitted): read with pipelines. */
const noScripts = new WeakSet<Redis>()

/**
 * Each key's type and value (hashes and sorted sets as flat arrays of Buffers, strings as a
 * Buffer, lists and sets as arrays of Buffers, other types none), or with `raw` its DUMP and PTTL.
 */
export async function fetchKeys(redis: Redis, keys: readonly string[], raw: boolean): Promise<Fetched[]> {
  if (keys.length === 0) return []
  if (!noScripts.has(redis)) {
    try {
      const flat = (await redis.callBuffer('EVAL', readScript, keys.length, ...keys, raw ? 'raw' : 'value')) as unknown[]
      return keys.map((_, i) => ({ type: String(flat[3 * i]), value: flat[3 * i + 1], pttl: Number(flat[3 * i + 2]) }))
    } catch (err) {
      if ((err as Error).name !== 'ReplyError') throw err
      noScripts.add(redis)
    }
  }
  return raw ? pipelinedRaw(redis, keys) : pipelinedValues(redis, keys)
}

async function pipelinedRaw(redis: Redis, keys: readonly string[]): Promise<Fetched[]> {
  const p = redis.pipeline()
  for (const key of keys) p.type(key).dumpBuffer(key).pttl(key)
  const replies = replyValues((await p.exec()) ?? [])
  return keys.map((_, i) => ({ type: String(replies[3 * i]), value: replies[3 * i + 1], pttl: Number(replies[3 * i + 2]) }))
}

async function pipelinedValues(redis: Redis, keys: readonly string[]): Promise<Fetched[]> {
  const types = replyValues((await keys.reduce((p, key) => p.type(key), redis.pipeline()).exec()) ?? []).map(String)
  const p = redis.pipeline()
  keys.forEach((key, i) => {
    const read = reads[types[i]!]
    if (read) p.callBuffer(...read(key))
    else p.exists(key)
  })
  const values = replyValues((await p.exec()) ?? [])
  // A key that changed type between the two round trips reads as gone, not as the wrong value.
  return keys.map((_, i) => ({ type: types[i]!, value: reads[types[i]!] ? values[i] : null, pttl: 0 }))
}

const reads: Record<string, (key: string) => [string, ...string[]]> = {
  hash: (key) => ['HGETALL', key],
  string: (key) => ['GET', key],
  list: (key) => ['LRANGE', key, '0', '-1'],
  set: (key) => ['SMEMBERS', key],
  zset: (key) => ['ZRANGE', key, '0', '-1', 'WITHSCORES'],
}

function replyValues(replies: [Error | null, unknown][]): unknown[] {
  return replies.map(([err, value]) => {
    if (err && !err.message.startsWith('WRONGTYPE')) throw err
    return err ? null : value
  })
}
