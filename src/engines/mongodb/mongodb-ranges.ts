/**
 * Partitions and positions of a MongoDB source, over one key field (`_id` by default).
 *
 * MongoDB orders values of different BSON types by type first (numbers < strings < objects <
 * binData < ObjectId < bool < date < …), but its range operators match only values of the operand's
 * own type class: `{_id: {$gt: 5}}` never returns a string `_id`. ferry never re-derives that order:
 * the server sorts every read, and a range is always within one type class (`$type` keeps it there):
 * - a partition is `{ type, gt?, lte? }` (the keys of that class after `gt` up to `lte`), or
 *   `{ except: [classes] }` (every key of the other classes, the classes split points missed, and
 *   `{}` for the whole table), read as one sorted cursor across classes;
 * - a position is `{ after, done? }`: the last key read, and in an `except` partition the classes
 *   the cursor has passed (the server sorted them before the class of `after`).
 * Keys travel as canonical Extended JSON, which keeps every BSON type exactly (Int32 vs Long vs
 * Double, ObjectId, Decimal128, binary subtypes, dates).
 */
import { BSON, type Document } from 'mongodb'
import { ConfigError, messageOf } from '../../errors.js'
import type { Filter } from '../../source.js'
import type { Json } from '../../types.js'

/** A type class: the BSON types that a range operator compares with each other. */
export type TypeClass = string

const bsonType = (v: unknown): string | undefined =>
  v !== null && typeof v === 'object' ? ((v as { _bsontype?: unknown })._bsontype as string | undefined) : undefined

/** The class of a key value as the driver hands it over (`readOptions`). */
export function typeClassOf(value: unknown): TypeClass {
  if (value === null || value === undefined) return 'null'
  switch (typeof value) {
    case 'number':
    case 'bigint':
      return 'number'
    case 'string':
      return 'string'
    case 'boolean':
      return 'bool'
  }
  if (value instanceof Date) return 'date'
  if (Array.isArray(value)) return 'array'
  switch (bsonType(value)) {
    case 'Int32':
    case 'Double':
    case 'Long':
    case 'Decimal128':
      return 'number'
    case 'BSONSymbol':
      // Deprecated, and compared as strings: ranges over it are not supported (README).
      return 'symbol'
    case 'ObjectId':
      return 'objectId'
    case 'Binary':
      return 'binData'
    case 'Timestamp':
      return 'timestamp'
    case 'BSONRegExp':
      return 'regex'
    case 'MinKey':
      return 'minKey'
    case 'MaxKey':
      return 'maxKey'
    case 'Code':
      return 'javascript'
    case undefined:
      return value instanceof RegExp ? 'regex' : 'object'
  }
  return 'object'
}

/** The `$type` aliases of a class (FerretDB knows no `symbol`, so strings go without it). */
function aliases(c: TypeClass): string[] {
  if (c === 'javascript') return ['javascript', 'javascriptWithScope']
  return [c]
}

export const keyToEjson = (value: unknown): Json => BSON.EJSON.serialize(value, { relaxed: false }) as Json
export const keyFromEjson = (json: Json): unknown => BSON.EJSON.deserialize(json as Document, { relaxed: false })

/** NaN sorts before every number and no range operator matches it. */
function isNaNKey(value: unknown): boolean {
  if (typeof value === 'number') return Number.isNaN(value)
  if (bsonType(value) === 'Double') return Number.isNaN((value as { valueOf(): number }).valueOf())
  return bsonType(value) === 'Decimal128' && /NaN/i.test(String(value))
}

/**
 * Partitions from split points in the server's order (sorted by it): for each class they cover,
 * ranges from one split point to the next; then one `except` partition for the rest. A NaN is no
 * split point (no range can start after it): it stays in the first range of the numbers.
 */
export function partitionsFrom(points: readonly unknown[]): Json[] {
  const partitions: Json[] = []
  const classes: TypeClass[] = []
  let gt: Json | undefined
  for (const point of points) {
    if (isNaNKey(point)) continue
    const c = typeClassOf(point)
    if (classes.at(-1) !== c) {
      if (classes.length) partitions.push(range(classes.at(-1)!, gt))
      // The server sorts by class first: a class cannot come back after another.
      if (classes.includes(c)) throw new Error(`split points out of the server's order: ${c} after ${classes.join(', ')}`)
      classes.push(c)
      gt = undefined
    }
    const lte = keyToEjson(point)
    partitions.push(range(c, gt, lte))
    gt = lte
  }
  if (classes.length) partitions.push(range(classes.at(-1)!, gt))
  partitions.push(classes.length ? { except: classes } : {})
  return partitions
}

function range(type: TypeClass, gt?: Json, lte?: Json): Json {
  return { type, ...(gt !== undefined && { gt }), ...(lte !== undefined && { lte }) }
}

interface Partition {
  readonly type?: TypeClass
  readonly gt?: Json
  readonly lte?: Json
  readonly except?: readonly TypeClass[]
}

export interface Position {
  readonly after: Json
  readonly done?: readonly TypeClass[]
}

/** `{ $type, $gt }` for the keys of `after`'s class after it (every number after a NaN). */
function after(value: unknown): Document {
  const c = typeClassOf(value)
  return isNaNKey(value) ? { $type: aliases(c), $gte: -Infinity } : { $type: aliases(c), $gt: value }
}

/** The filter on the key field of a partition read from a position; undefined: every document. */
export function rangeFilter(key: string, partition: Json, position?: Json): Document | undefined {
  const p = (partition ?? {}) as Partition
  const from = position === undefined ? undefined : keyFromEjson((position as unknown as Position).after)
  if (p.type !== undefined) {
    const lower = from !== undefined ? after(from) : p.gt !== undefined ? after(keyFromEjson(p.gt)) : { $type: aliases(p.type) }
    // `$not: {$gt}` rather than `$lte`: it also takes a NaN, which sorts first and no `$lte` matches.
    return { [key]: { ...lower, ...(p.lte !== undefined && { $not: { $gt: keyFromEjson(p.lte) } }) } }
  }
  const except = [...(p.except ?? [])]
  if (from === undefined) return except.length ? { [key]: { $not: { $type: except.flatMap(aliases) } } } : undefined
  const passed = [...except, ...((position as unknown as Position).done ?? []), typeClassOf(from)]
  return { $or: [{ [key]: after(from) }, { [key]: { $not: { $type: passed.flatMap(aliases) } } }] }
}

/**
 * Follows a read through its partition and says each page's position: in an `except` partition,
 * which classes the sorted cursor has passed.
 */
export class PositionTracker {
  readonly #except: boolean
  readonly #done: TypeClass[]
  #current: TypeClass | undefined

  constructor(partition: Json, position: Json | undefined) {
    this.#except = (partition as Partition | null)?.type === undefined
    const p = position as unknown as Position | undefined
    this.#done = [...(p?.done ?? [])]
    this.#current = p ? typeClassOf(keyFromEjson(p.after)) : undefined
  }

  /** The position after a page whose keys, in the order read, are `keys` (not empty). */
  after(keys: readonly unknown[]): Json {
    const last = keys.at(-1)
    if (!this.#except) return { after: keyToEjson(last) }
    for (const key of keys) {
      const c = typeClassOf(key)
      if (c === this.#current) continue
      if (this.#current !== undefined) this.#done.push(this.#current)
      this.#current = c
    }
    return { after: keyToEjson(last), ...(this.#done.length && { done: [...this.#done] }) }
  }
}

/** A `where` setting as a query document: an object, or its (Extended) JSON text. */
export function filterDocument(filter: Filter | undefined): Document {
  if (filter === undefined) return {}
  if (typeof filter !== 'string') return filter as Document
  const text = filter.trim()
  if (text.startsWith('{')) {
    try {
      return BSON.EJSON.parse(text, { relaxed: true }) as Document
    } catch (err) {
      throw new ConfigError(`setting \`where\`: ${JSON.stringify(filter)} is not a JSON query document (${messageOf(err)})`)
    }
  }
  throw new ConfigError(
    `setting \`where\`: the mongodb source takes a query document (\`{ status: { $ne: 'deleted' } }\`, or its JSON text), not ${JSON.stringify(filter)}`,
  )
}

/** Both filters; an empty or undefined one is left out. */
export function both(a: Document, b: Document | undefined): Document {
  if (!b) return a
  return Object.keys(a).length ? { $and: [a, b] } : b
}
