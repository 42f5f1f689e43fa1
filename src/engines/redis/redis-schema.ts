import type { Redis } from 'ioredis'
import { FerryError } from '../../errors.js'
import type { ColumnInfo, LogicalType, TableSchema } from '../../types.js'
import type { KeyPattern } from './redis-pattern.js'
import { isUtf8 } from './redis-values.js'

/**
 * How a table's rows are stored: `hash` (fields are columns), `json` (a string holding a JSON
 * object whose fields are columns), `string` (a plain string: one column `value`), `list`, `set`,
 * `zset` (one JSON column `value`: the elements; a set's sorted, a sorted set's as [member, score]).
 */
export type Storage = 'hash' | 'json' | 'string' | 'list' | 'set' | 'zset'

/** A pattern with what its rows hold, as a record or a sample says. */
export interface RedisTable {
  readonly pattern: KeyPattern
  readonly schema: TableSchema & { readonly storage: Storage }
  /** Whether the columns come from a schema record (else from a sample of the keys). */
  readonly recorded: boolean
}

/** A value that does not fit its table (another type, an unknown field, text that is not UTF-8). */
export class RedisValueError extends FerryError {}

/**
 * The schema record of a pattern: a JSON string at `ferry:schema:<pattern>` that ferry writes when
 * it creates a table, naming the columns and their logical types, so that a reader decodes every
 * value exactly. Readers never take it for a row.
 */
export const recordKey = (pattern: string): string => `ferry:schema:${pattern}`
export const isRecordKey = (key: string): boolean => key.startsWith('ferry:schema:')

interface SchemaRecord {
  readonly ferry: 1
  readonly pattern: string
  readonly storage: Storage
  readonly key: readonly string[]
  readonly columns: readonly ColumnInfo[]
}

const storages: readonly Storage[] = ['hash', 'json', 'string', 'list', 'set', 'zset']

export async function readRecord(redis: Redis, pattern: KeyPattern): Promise<RedisTable | undefined> {
  const text = await redis.get(recordKey(pattern.text))
  if (text === null) return undefined
  let record: SchemaRecord
  try {
    record = JSON.parse(text) as SchemaRecord
    if (record.ferry !== 1 || !storages.includes(record.storage) || !Array.isArray(record.columns)) throw new Error('unknown form')
  } catch (err) {
    throw new RedisValueError(`schema record \`${recordKey(pattern.text)}\` cannot be read (${(err as Error).message}); delete it to let ferry sample the keys instead`)
  }
  return tableOf(pattern, record.columns, record.storage, true)
}

export function recordText(table: RedisTable): string {
  const record: SchemaRecord = {
    ferry: 1,
    pattern: table.pattern.text,
    storage: table.schema.storage,
    key: table.pattern.columns,
    columns: table.schema.columns,
  }
  return JSON.stringify(record)
}

/** The table for these columns: key columns first, in the pattern's order, never NULL. */
export function tableOf(pattern: KeyPattern, columns: readonly ColumnInfo[], storage: Storage, recorded: boolean): RedisTable {
  const keyColumns = pattern.columns.map((name): ColumnInfo => {
    const c = columns.find((column) => column.name === name)
    return { ...(c ?? { name, nativeType: 'key part', type: 'text' }), nullable: false }
  })
  const rest = columns.filter((c) => !pattern.columns.includes(c.name))
  const key = pattern.columns
  return { pattern, schema: { table: pattern.text, columns: [...keyColumns, ...rest], primaryKey: key, uniqueKeys: [key], storage }, recorded }
}

/** A sampled key: its Redis type and its value as the type's read returns it. */
export interface Sampled {
  readonly key: string
  readonly type: string
  readonly value: unknown
}

/** The columns the sampled keys imply. All keys must be of one type ferry reads. */
export function inferTable(pattern: KeyPattern, sample: readonly Sampled[]): RedisTable {
  const first = sample[0]!
  for (const s of sample) {
    if (!['hash', 'string', 'list', 'set', 'zset'].includes(s.type)) {
      throw new RedisValueError(`key \`${s.key}\` of \`${pattern.text}\` is a ${s.type}, which ferry does not read (it reads hashes, strings, lists, sets and sorted sets)`)
    }
    if (s.type !== first.type) {
      throw new RedisValueError(`keys of \`${pattern.text}\` hold values of two types: \`${first.key}\` a ${first.type}, \`${s.key}\` a ${s.type}; a pattern whose keys are all of one type is a table`)
    }
  }
  if (first.type === 'hash') return tableOf(pattern, hashColumns(sample), 'hash', false)
  if (first.type !== 'string') return tableOf(pattern, [valueColumn('json', first.type)], first.type as Storage, false)
  const objects = sample.map((s) => jsonObject(s.value as Buffer))
  if (objects.every((o) => o !== undefined)) return tableOf(pattern, jsonColumns(objects), 'json', false)
  const binary = sample.some((s) => !isUtf8(s.value as Buffer))
  return tableOf(pattern, [valueColumn(binary ? 'bytes' : 'text', 'string')], 'string', false)
}

const valueColumn = (type: LogicalType, nativeType: string): ColumnInfo => ({ name: 'value', nativeType, type, nullable: true })

// Sampled keys come in the server's hash order: columns go by name, the same whatever the order.
const byName = ([a]: [string, unknown], [b]: [string, unknown]): number => (a < b ? -1 : a > b ? 1 : 0)

/** Every field any sampled hash has, as text; as bytes when some value is not UTF-8. */
function hashColumns(sample: readonly Sampled[]): ColumnInfo[] {
  const binary = new Map<string, boolean>()
  for (const s of sample) {
    const flat = s.value as Buffer[]
    for (let i = 0; i < flat.length; i += 2) {
      if (!isUtf8(flat[i]!)) throw new RedisValueError(`hash \`${s.key}\` has a field whose name is not UTF-8 text (${flat[i]!.toString('hex')})`)
      const name = flat[i]!.toString()
      binary.set(name, (binary.get(name) ?? false) || !isUtf8(flat[i + 1]!))
    }
  }
  return [...binary].sort(byName).map(([name, bytes]) => ({ name, nativeType: 'hash field', type: bytes ? 'bytes' : 'text', nullable: true }))
}

function jsonObject(raw: Buffer): Record<string, unknown> | undefined {
  if (!isUtf8(raw)) return undefined
  try {
    const value = JSON.parse(raw.toString()) as unknown
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** Each field's type from its values: whole numbers bigint, other numbers float, one kind else json. */
function jsonColumns(objects: readonly (Record<string, unknown> | undefined)[]): ColumnInfo[] {
  const kinds = new Map<string, Set<string>>()
  for (const o of objects) {
    for (const [name, v] of Object.entries(o!)) {
      const set = kinds.get(name) ?? new Set<string>()
      if (v !== null) set.add(typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'float') : typeof v === 'object' ? 'object' : typeof v)
      kinds.set(name, set)
    }
  }
  return [...kinds].sort(byName).map(([name, set]): ColumnInfo => ({ name, nativeType: 'json field', type: jsonType(set), nullable: true }))
}

function jsonType(kinds: Set<string>): LogicalType {
  const only = (...k: string[]) => kinds.size > 0 && [...kinds].every((x) => k.includes(x))
  if (kinds.size === 0 || only('string')) return 'text'
  if (only('integer')) return 'bigint'
  if (only('integer', 'float')) return 'float'
  if (only('boolean')) return 'boolean'
  return 'json'
}
