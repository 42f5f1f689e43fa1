import type { Redis } from 'ioredis'
import { canonical } from '../../canonical.js'
import type { ColumnInfo, Row } from '../../types.js'
import { fetchKeys } from './redis-fetch.js'
import { type RedisTable, RedisValueError, type Storage } from './redis-schema.js'
import { DecodeError, fromField, fromJson, utf8 } from './redis-values.js'

const typeOf: Record<Storage, string> = { hash: 'hash', json: 'string', string: 'string', list: 'list', set: 'set', zset: 'zset' }
const nouns: Record<Storage, string> = { hash: 'hashes', json: 'JSON strings', string: 'strings', list: 'lists', set: 'sets', zset: 'sorted sets' }

/** The Redis type a table's keys hold (JSON rows are strings). */
export const redisTypeOf = (storage: Storage): string => typeOf[storage]

/** The key's type must be its table's; a key gone meanwhile (`none`) is no row. */
function checkType(table: RedisTable, key: string, type: string): boolean {
  if (type === 'none') return false
  if (type === typeOf[table.schema.storage]) return true
  throw new RedisValueError(
    `key \`${key}\` is a ${type}, but \`${table.pattern.text}\` holds ${nouns[table.schema.storage]}; give keys of another type a pattern of their own`,
  )
}

/**
 * The rows of these keys, read in one round trip and decoded as the table's columns say; keys
 * gone meanwhile (deleted, expired) are left out. A key of another type, or a value its column
 * cannot read, is a `RedisValueError` naming the key.
 */
export async function readRows(redis: Redis, table: RedisTable, keys: readonly string[]): Promise<Row[]> {
  const fetched = await fetchKeys(redis, keys, false)
  const rows: Row[] = []
  fetched.forEach(({ type, value }, i) => {
    const row = checkType(table, keys[i]!, type) ? decodeRow(table, keys[i]!, value) : undefined
    if (row) rows.push(row)
  })
  return rows
}

/** One key's value as a row; undefined when the key is gone. */
export function decodeRow(table: RedisTable, key: string, value: unknown): Row | undefined {
  if (value === null || (Array.isArray(value) && value.length === 0)) return undefined
  const columns = table.schema.columns
  const row: Row = {}
  for (const c of columns) row[c.name] = null
  const parts = table.pattern.parse(key)!
  table.pattern.columns.forEach((name, i) => (row[name] = decodeOne(key, column(table, key, name), () => fromField(parts[i]!, column(table, key, name), true))))
  const set = (name: string, decode: (c: ColumnInfo) => unknown) => {
    const c = column(table, key, name)
    const v = decodeOne(key, c, () => decode(c))
    const k = table.pattern.columns.indexOf(name)
    // A key column is the key's part; a field of the same name must say the same.
    if (k !== -1 && canonical(v, c) !== canonical(row[name], c)) {
      throw new RedisValueError(`key \`${key}\`: field \`${name}\` holds ${JSON.stringify(canonical(v, c))}, but the key says ${JSON.stringify(parts[k])}`)
    }
    row[name] = v
  }
  switch (table.schema.storage) {
    case 'hash': {
      const flat = value as Buffer[]
      for (let i = 0; i < flat.length; i += 2) set(decodeOne(key, undefined, () => utf8(flat[i]!)), (c) => fromField(flat[i + 1]!, c))
      break
    }
    case 'json': {
      const object = jsonObject(key, value as Buffer)
      for (const [name, v] of Object.entries(object)) set(name, (c) => fromJson(v, c))
      break
    }
    case 'string':
      set('value', (c) => fromField(value as Buffer, c))
      break
    default:
      set('value', () => elements(table.schema.storage, value as Buffer[]))
  }
  return row
}

const byName = new WeakMap<RedisTable, Map<string, ColumnInfo>>()

function column(table: RedisTable, key: string, name: string): ColumnInfo {
  let columns = byName.get(table)
  if (!columns) byName.set(table, (columns = new Map(table.schema.columns.map((c) => [c.name, c]))))
  const c = columns.get(name)
  if (c) return c
  const known = table.schema.columns.map((x) => x.name).join(', ')
  const remedy = table.recorded
    ? `its schema record \`ferry:schema:${table.pattern.text}\` has ${known}`
    : `the sampled keys have ${known}; sample more keys (\`?sample=all\` in the source URL)`
  throw new RedisValueError(`key \`${key}\` has field \`${name}\`, which \`${table.pattern.text}\` does not have (${remedy})`)
}

function decodeOne<T>(key: string, c: ColumnInfo | undefined, decode: () => T): T {
  try {
    return decode()
  } catch (err) {
    if (!(err instanceof DecodeError)) throw err
    const where = c ? `field \`${c.name}\` (${c.type})` : 'a field name'
    throw new RedisValueError(`key \`${key}\`: ${where}: ${err.message}`)
  }
}

function jsonObject(key: string, raw: Buffer): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(decodeOne(key, undefined, () => utf8(raw)))
  } catch (err) {
    if (err instanceof RedisValueError) throw err
    value = undefined
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>
  throw new RedisValueError(`key \`${key}\` does not hold a JSON object (${JSON.stringify(raw.subarray(0, 40).toString())}…), as the other keys of its pattern do`)
}

/** A list's elements in order, a set's sorted by bytes, a sorted set's as [member, score] by score. */
function elements(storage: Storage, flat: Buffer[]): unknown[] {
  if (storage === 'list') return flat.map(utf8)
  if (storage === 'set') return [...flat].sort(Buffer.compare).map(utf8)
  const pairs: unknown[] = []
  for (let i = 0; i < flat.length; i += 2) {
    const score = Number(flat[i + 1]!.toString())
    pairs.push([utf8(flat[i]!), Number.isFinite(score) ? score : flat[i + 1]!.toString()])
  }
  return pairs
}

/**
 * A value as Redis itself serialises it (DUMP), with its time to live: what a copy into another
 * Redis restores without decoding. Rows carry it under this symbol, which no core stage reads.
 */
export const rawValue = Symbol.for('ferry.redis.raw')

export interface RawValue {
  readonly dump: Buffer
  /** Milliseconds the key has left; -1 when it does not expire. */
  readonly pttl: number
  /** When (Date.now()) the read that measured `pttl` was sent: a restore takes the time since off. */
  readonly readAt: number
  readonly type: string
}

/** The key columns of a key, decoded. */
export function keyRow(table: RedisTable, key: string): Row {
  const parts = table.pattern.parse(key)!
  const row: Row = {}
  table.pattern.columns.forEach((name, i) => {
    const c = column(table, key, name)
    row[name] = decodeOne(key, c, () => fromField(parts[i]!, c, true))
  })
  return row
}

/** Rows of key columns carrying each key's DUMP and PTTL; keys gone meanwhile are left out. */
export async function readRaw(redis: Redis, table: RedisTable, keys: readonly string[]): Promise<Row[]> {
  const readAt = Date.now()
  const fetched = await fetchKeys(redis, keys, true)
  const rows: Row[] = []
  fetched.forEach(({ type, value, pttl }, i) => {
    const key = keys[i]!
    if (!checkType(table, key, type) || value === null) return
    const row = keyRow(table, key)
    Object.defineProperty(row, rawValue, { value: { dump: value as Buffer, pttl, readAt, type } satisfies RawValue, enumerable: false })
    rows.push(row)
  })
  return rows
}
