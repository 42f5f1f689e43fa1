import type { Document } from 'mongodb'
import { ConfigError } from '../../errors.js'
import type { ColumnInfo, LogicalType, TableSchema } from '../../types.js'
import type { MongoConnection } from './mongodb-connection.js'

/** A field's BSON type as a schema names it (the `$type` alias; `uuid` is binData of subtype 4). */
type Kind = 'int' | 'long' | 'double' | 'decimal' | 'string' | 'bool' | 'date' | 'objectId' | 'binData' | 'uuid' | 'object' | 'array' | 'other'

/** The kind of a value read with `promoteValues: false`, so that an int and a whole double differ. */
function kindOf(value: unknown): Kind {
  switch (typeof value) {
    case 'string':
      return 'string'
    case 'boolean':
      return 'bool'
    case 'bigint':
      return 'long'
    case 'number':
      return Number.isInteger(value) ? 'int' : 'double'
  }
  if (value instanceof Date) return 'date'
  if (Array.isArray(value)) return 'array'
  const type = (value as { _bsontype?: string })._bsontype
  switch (type) {
    case 'Int32':
      return 'int'
    case 'Long':
      return 'long'
    case 'Double':
      return 'double'
    case 'Decimal128':
      return 'decimal'
    case 'ObjectId':
      return 'objectId'
    case 'Binary':
      return (value as { sub_type: number }).sub_type === 4 ? 'uuid' : 'binData'
    case undefined:
      return 'object'
  }
  return 'other'
}

const single: Record<Kind, [LogicalType, string]> = {
  int: ['integer', 'int'],
  long: ['bigint', 'long'],
  double: ['float', 'double'],
  decimal: ['decimal', 'decimal'],
  string: ['text', 'string'],
  bool: ['boolean', 'bool'],
  date: ['timestamptz', 'date'],
  objectId: ['text', 'objectId'],
  binData: ['bytes', 'binData'],
  uuid: ['uuid', 'uuid'],
  object: ['json', 'object'],
  array: ['json', 'array'],
  other: ['json', 'mixed'],
}

/**
 * The column a field's sampled kinds make: one kind maps to its type; integers of both sizes make
 * a bigint, integers with doubles a float, integers with decimals a decimal; any other mix (or a
 * type JSON has no counterpart for, like a BSON timestamp or regex) a JSON column that keeps each
 * value as it is.
 */
function columnOf(name: string, kinds: ReadonlySet<Kind>): ColumnInfo {
  const nullable = name !== '_id'
  const has = (...k: Kind[]) => [...kinds].every((x) => k.includes(x))
  let typed: [LogicalType, string]
  if (kinds.size === 0) typed = ['text', 'null']
  else if (kinds.size === 1) typed = single[[...kinds][0]!]
  else if (has('int', 'long')) typed = ['bigint', 'long']
  else if (has('int', 'long', 'double') && !kinds.has('long')) typed = ['float', 'double']
  else if (has('int', 'long', 'decimal')) typed = ['decimal', 'decimal']
  else if (has('object', 'array')) typed = ['json', 'object']
  else typed = ['json', 'mixed']
  return { name, nativeType: typed[1], type: typed[0], nullable }
}

/**
 * The collection's schema, inferred from a sample (`sample`): `_id` first, then the fields in the
 * order the sampled documents show them. `_id` is the primary key; full unique indexes on top-level fields
 * are unique keys (a view has none). Undefined when there is no such collection or view.
 */
export async function describeCollection(connection: MongoConnection, table: string): Promise<TableSchema | undefined> {
  const kind = await connection.kind(table)
  if (!kind) return undefined
  const kinds = new Map<string, Set<Kind>>([['_id', new Set()]])
  for (const doc of await sample(connection, table)) {
    for (const [name, value] of Object.entries(doc)) {
      let seen = kinds.get(name)
      if (!seen) kinds.set(name, (seen = new Set()))
      if (value !== null && value !== undefined) seen.add(kindOf(value))
    }
  }
  const columns = [...kinds].map(([name, k]) => columnOf(name, k))
  if (kind === 'view') return { table, columns, primaryKey: [], uniqueKeys: [] }
  return { table, columns, primaryKey: ['_id'], uniqueKeys: [['_id'], ...(await uniqueIndexes(connection, table))] }
}

/**
 * Half the sample in the collection's natural order (the oldest documents, without a sort) and
 * half from the end of the `_id` order (the newest, for ObjectIds): the same documents for every
 * connection of a run (each worker describes the table itself), and both the first and the latest
 * shapes of documents whose fields changed over time.
 */
async function sample(connection: MongoConnection, table: string): Promise<Document[]> {
  const size = connection.config.settings.sampleSize
  const collection = connection.collection(table)
  // Numbers as Int32, Long and Double, so that an int and a whole double differ.
  const options = { promoteValues: false, promoteBuffers: false, bsonRegExp: true }
  if (size === 0) return collection.find({}, options).toArray()
  const head = await collection.find({}, { ...options, limit: Math.ceil(size / 2) }).toArray()
  if (head.length < Math.ceil(size / 2)) return head
  return [...head, ...(await collection.find({}, { ...options, sort: { _id: -1 }, limit: Math.floor(size / 2) }).toArray())]
}

/** Full (not partial) unique indexes over top-level fields, as lists of their fields. */
async function uniqueIndexes(connection: MongoConnection, table: string): Promise<string[][]> {
  const indexes = await connection.collection(table).listIndexes().toArray()
  return indexes
    .filter((i) => i.unique === true && !i.partialFilterExpression && i.name !== '_id_')
    .map((i) => Object.entries(i.key as Record<string, unknown>))
    .filter((fields) => fields.every(([name, order]) => !name.includes('.') && (order === 1 || order === -1)))
    .map((fields) => fields.map(([name]) => name))
}

/** The BSON type a column is written as, for dry runs. */
export function bsonTypeName(column: ColumnInfo, decimals: 'decimal128' | 'string'): string {
  switch (column.type) {
    case 'integer':
      return 'int'
    case 'bigint':
      return 'long'
    case 'float':
      return 'double'
    case 'decimal':
      return decimals === 'string' ? 'string (decimals=string)' : 'decimal'
    case 'boolean':
      return 'bool'
    case 'text':
      return column.nativeType === 'objectId' ? 'objectId' : 'string'
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return 'date'
    case 'json':
      return 'embedded'
    case 'bytes':
      return 'binData'
    case 'uuid':
      return 'binData (UUID)'
    case 'geometry':
      throw new ConfigError(`column \`${column.name}\` is a geometry, which MongoDB has no type for that keeps its kind and SRID`)
  }
}
