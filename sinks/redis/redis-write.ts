import type { ChainableCommander, Redis } from 'ioredis'
import { rawValue, type RawValue } from '../../src/engines/redis/redis-read.js'
import type { RedisTable } from '../../src/engines/redis/redis-schema.js'
import { fieldValue, jsonValue, keyPartText } from '../../src/engines/redis/redis-values.js'
import { SinkWriteError } from '../../src/errors.js'
import { faultPoint } from '../../src/faults.js'
import { keyOf, keyText } from '../../src/keys.js'
import type { WriteKind, WriteTarget } from '../../src/sink.js'
import type { ColumnInfo, Row } from '../../src/types.js'
import { jsonText } from '../../src/values.js'

/** One row as Redis commands take it. */
interface Encoded {
  readonly key: string
  /** hash: field, value, field, value…; json: the JSON text; raw: the TTL in ms and the DUMP. */
  readonly args: (string | Buffer)[]
  /** hash, upsert: the written columns that are NULL, whose fields go. */
  readonly nulls: string[]
}

export type WriteFormat = 'hash' | 'json' | 'raw'

/** The key of a row: its key columns' texts in the pattern; a row whose key would read back otherwise is refused. */
export function keyOfRow(table: RedisTable, columns: ReadonlyMap<string, ColumnInfo>, row: Row, target: WriteTarget): string {
  const pattern = table.pattern
  const texts = pattern.columns.map((name) => keyPartText(row[name], columns.get(name)!))
  const key = pattern.build(texts)
  if (key !== undefined) return key
  const built = pattern.literals[0] + texts.map((t, i) => t + pattern.literals[i + 1]).join('')
  throw new SinkWriteError(
    `the row with key ${keyText(keyOf(row, target.key))} would be stored at \`${built}\`, which reads back as other key values: a key part must not hold the text that follows it in \`${pattern.text}\``,
    'rejected',
  )
}

/**
 * The milliseconds a copied key has left: what it had when read, less the time since (the read's
 * send time, so a copy never outlives its source); 0 (no expiry) when it had none. A key that
 * expired in flight gets 1 ms, as its source is gone too.
 */
function copiedTtl(raw: RawValue): number {
  if (raw.pttl < 0) return 0
  return Math.max(1, raw.pttl - (Date.now() - raw.readAt))
}

/** Encodes rows for `format`; `ttl` (ms) is what a restored key gets (0: none). */
export function encodeRows(table: RedisTable, target: WriteTarget, rows: readonly Row[], format: WriteFormat, ttl: number | undefined): Encoded[] {
  const columns = new Map(table.schema.columns.map((c) => [c.name, c]))
  const written = target.columns.map((c) => columns.get(c.name) ?? c)
  return rows.map((row) => {
    const key = keyOfRow(table, columns, row, target)
    if (format === 'raw') {
      const raw = (row as Record<symbol, RawValue>)[rawValue]!
      return { key, args: [String(ttl ?? copiedTtl(raw)), raw.dump], nulls: [] }
    }
    if (format === 'json') {
      const object: Record<string, unknown> = {}
      for (const c of written) object[c.name] = row[c.name] == null ? null : jsonValue(row[c.name], c)
      return { key, args: [jsonText(object)], nulls: [] }
    }
    const args: (string | Buffer)[] = []
    const nulls: string[] = []
    for (const c of written) {
      const v = row[c.name]
      if (v == null) nulls.push(c.name)
      else args.push(c.name, fieldValue(v, c))
    }
    return { key, args, nulls }
  })
}

/**
 * Upserts in pipelines, not MULTI/EXEC: Redis never rolls a transaction back (a failing command
 * leaves the others applied), and a run killed halfway through a batch is covered anyway: the
 * checkpoint's lease makes a resume replay the batch, and every command here is idempotent. A
 * hash row updates the fields of the columns the run writes (a NULL one loses its field) and keeps
 * the others; a JSON row replaces the string (keeping its TTL unless `ttl` is set).
 */
export async function upsert(redis: Redis, rows: readonly Encoded[], format: WriteFormat, ttlMs: number | undefined): Promise<void> {
  const half = rows.length >> 1
  await runPipeline(redis, rows.slice(0, half), format, ttlMs)
  // The kill tests' crash point: half the batch is in Redis, the checkpoint does not know it.
  faultPoint('sink-write')
  await runPipeline(redis, rows.slice(half), format, ttlMs)
}

async function runPipeline(redis: Redis, rows: readonly Encoded[], format: WriteFormat, ttlMs: number | undefined): Promise<void> {
  if (rows.length === 0) return
  const p = redis.pipeline()
  const owners: string[] = []
  const queue = (key: string, add: (p: ChainableCommander) => void) => {
    add(p)
    owners.push(key)
  }
  for (const { key, args, nulls } of rows) {
    if (format === 'raw') queue(key, (q) => q.restore(key, args[0] as string, args[1]!, 'REPLACE'))
    else if (format === 'json') queue(key, (q) => (ttlMs ? q.set(key, args[0]!, 'PX', ttlMs) : q.set(key, args[0]!, 'KEEPTTL')))
    else {
      if (args.length) queue(key, (q) => q.hset(key, ...args))
      if (nulls.length) queue(key, (q) => q.hdel(key, ...nulls))
      if (ttlMs) queue(key, (q) => q.pexpire(key, ttlMs))
    }
  }
  const replies = (await p.exec()) ?? []
  const failed = replies.findIndex(([err]) => err)
  if (failed !== -1) throw describe(replies[failed]![0]!, owners[failed]!)
}

// All or none, atomically: the keys are checked first, then written; a kill -9 leaves the batch
// whole or absent. KEYS: the rows' keys; ARGV: format, TTL in ms ('0': none), then per key the
// number of its arguments and the arguments (hash: field, value…; json: text; raw: TTL, DUMP).
const insertScript = `
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then return i end
end
local a = 3
for i = 1, #KEYS do
  local n = tonumber(ARGV[a])
  if ARGV[1] == 'hash' then
    redis.call('HSET', KEYS[i], unpack(ARGV, a + 1, a + n))
  elseif ARGV[1] == 'json' then
    redis.call('SET', KEYS[i], ARGV[a + 1])
  else
    redis.call('RESTORE', KEYS[i], ARGV[a + 1], ARGV[a + 2])
  end
  if ARGV[2] ~= '0' and ARGV[1] ~= 'raw' then redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
  a = a + n + 1
end
return 0`

/**
 * Inserts a batch with one script: an existing key refuses the whole batch, naming the key, and
 * the core's split then finds the row (a batch half-written by a pipeline would instead make its
 * own rows look like existing keys when the halves are written again).
 */
export async function insert(redis: Redis, rows: readonly Encoded[], format: WriteFormat, ttlMs: number | undefined): Promise<void> {
  const seen = new Set<string>()
  for (const { key } of rows) {
    if (seen.has(key)) throw new SinkWriteError(`two rows of the batch are stored at key \`${key}\``, 'rejected')
    seen.add(key)
  }
  const args: (string | Buffer)[] = [format, String(ttlMs ?? 0)]
  for (const { args: a } of rows) args.push(String(a.length), ...a)
  let refused: unknown
  try {
    refused = await redis.eval(insertScript, rows.length, ...rows.map((r) => r.key), ...args)
  } catch (err) {
    if (/^(NOPERM|ERR unknown command)/.test((err as Error).message)) {
      throw new SinkWriteError(`inserts need Lua scripting (EVAL), which this server refuses (${(err as Error).message}); let the user run EVAL, or write with writeMode 'upsert'`, 'fatal', { cause: err })
    }
    throw describe(err as Error, rows[0]?.key ?? '')
  }
  if (typeof refused === 'number' && refused > 0) {
    throw new SinkWriteError(`key \`${rows[refused - 1]!.key}\` exists already, and writeMode insert does not replace a key`, 'rejected')
  }
  faultPoint('sink-write')
}

/** A reply error naming the key, kept as the cause (its kind decides retries). */
function describe(err: Error, key: string): Error {
  if (/^(WRONGTYPE|BUSYKEY)\b/.test(err.message)) {
    return new SinkWriteError(`key \`${key}\` holds a value of another type: ${err.message}`, 'rejected', { cause: err })
  }
  return err
}

/** How a batch is written: rows carrying a DUMP are restored as they are. */
export function formatOf(table: RedisTable, rows: readonly Row[], kind: WriteKind): WriteFormat {
  const raw = rows.length > 0 && rawValue in rows[0]!
  if (raw) return 'raw'
  const storage = table.schema.storage
  if (storage === 'hash' || storage === 'json') return storage
  throw new SinkWriteError(
    `\`${table.pattern.text}\` holds ${storage} values restored as they were; ferry ${kind}s rows only as hashes or JSON strings: write into another pattern, or recreate this one (writeMode 'recreate')`,
    'fatal',
  )
}
