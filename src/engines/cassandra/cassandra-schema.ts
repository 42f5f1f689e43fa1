import { ConfigError } from '../../errors.js'
import type { ColumnInfo, LogicalType, TableSchema } from '../../types.js'
import { textLength } from '../../values.js'
import { type CassandraConnection, quote } from './cassandra-connection.js'

/** A CQL type as the driver's metadata describes it: a type code, and the types it holds. */
export interface CqlType {
  readonly code: number
  readonly info?: unknown
  readonly options?: { readonly frozen?: boolean }
}

/** The driver's type codes (`types.dataTypes`), by CQL name. */
export const codes = {
  custom: 0, ascii: 1, bigint: 2, blob: 3, boolean: 4, counter: 5, decimal: 6, double: 7, float: 8, int: 9, text: 10,
  timestamp: 11, uuid: 12, varchar: 13, varint: 14, timeuuid: 15, inet: 16, date: 17, time: 18, smallint: 19,
  tinyint: 20, duration: 21, list: 32, map: 33, set: 34, udt: 48, tuple: 49,
} as const

const names = Object.fromEntries(Object.entries(codes).map(([name, code]) => [code, name])) as Record<number, string>

/** A table as ferry reads and writes it: its schema, how its primary key partitions and clusters, each column's CQL type. */
export interface CassandraTable {
  readonly schema: TableSchema
  readonly partitionKey: readonly string[]
  /** Clustering columns in clustering order; DESC ones sort their values downwards. */
  readonly clustering: readonly { readonly name: string; readonly descending: boolean }[]
  readonly types: ReadonlyMap<string, CqlType>
}

/** `list<int>`, `frozen<map<text, set<bigint>>>`, `tuple<int, text>`, a UDT's name. */
export function cqlTypeName(type: CqlType): string {
  const inner = (t: unknown) => cqlTypeName(t as CqlType)
  let name: string
  switch (type.code) {
    case codes.list:
    case codes.set:
      name = `${names[type.code]}<${inner(type.info)}>`
      break
    case codes.map:
      name = `map<${(type.info as unknown[]).map(inner).join(', ')}>`
      break
    case codes.tuple:
      name = `tuple<${(type.info as unknown[]).map(inner).join(', ')}>`
      break
    case codes.udt:
      name = quote(String((type.info as { name?: unknown } | null)?.name ?? 'udt'))
      break
    case codes.custom:
      name = `'${String(type.info)}'`
      break
    default:
      name = names[type.code] ?? `type ${type.code}`
  }
  return type.options?.frozen ? `frozen<${name}>` : name
}

/** What ferry carries a CQL type as; what no logical type holds exactly (inet, time, duration) travels as its text. */
function logicalOf(type: CqlType): Pick<ColumnInfo, 'type' | 'precision' | 'scale'> {
  switch (type.code) {
    case codes.int:
    case codes.smallint:
    case codes.tinyint:
      return { type: 'integer' }
    case codes.bigint:
    case codes.counter:
      return { type: 'bigint' }
    case codes.varint:
      return { type: 'decimal', scale: 0 }
    case codes.decimal:
      return { type: 'decimal' }
    case codes.double:
      return { type: 'float' }
    case codes.float:
      // Single precision: only 32-bit floats fit (src/values.ts refuses others).
      return { type: 'float', precision: 24 }
    case codes.boolean:
      return { type: 'boolean' }
    case codes.blob:
      return { type: 'bytes' }
    case codes.uuid:
    case codes.timeuuid:
      return { type: 'uuid' }
    case codes.timestamp:
      // Milliseconds: finer values are refused rows (src/values.ts), never rounded.
      return { type: 'timestamptz', scale: 3 }
    case codes.date:
      return { type: 'date' }
    case codes.ascii:
    case codes.text:
    case codes.varchar:
    case codes.inet:
    case codes.time:
    case codes.duration:
      return { type: 'text' }
    default:
      return { type: 'json' }
  }
}

/**
 * The table comment of tables ferry creates: `ferry:` and what CQL does not say, so that the table
 * reads back as it went in: the columns' order (Cassandra lists the others by name), and the
 * logical types of columns CQL has no type for (JSON kept as text, a decimal's precision and scale,
 * a text length, a timestamp without zone).
 */
const marker = 'ferry:'
type Recorded = Pick<ColumnInfo, 'type' | 'precision' | 'scale' | 'nativeType'>

interface TableRecord {
  readonly order?: readonly string[]
  readonly columns?: Record<string, Partial<Recorded>>
}

function recordOf(columns: readonly ColumnInfo[]): TableRecord {
  const record: Record<string, Partial<Recorded>> = {}
  for (const c of columns) {
    const cql = cqlTypeFor(c)
    const plain = logicalOf({ code: codes[cql as keyof typeof codes] ?? codes.custom })
    const length = textLength(c)
    const wanted: Partial<Recorded> = {
      ...(plain.type !== c.type && { type: c.type }),
      ...(c.type === 'decimal' && c.precision !== undefined && { precision: c.precision }),
      ...(c.type === 'decimal' && c.scale !== undefined && c.scale !== plain.scale && { scale: c.scale }),
      ...(length !== undefined && { nativeType: `varchar(${length})` }),
    }
    if (Object.keys(wanted).length) record[c.name] = wanted
  }
  return { order: columns.map((c) => c.name), ...(Object.keys(record).length && { columns: record }) }
}

function parseRecord(comment: unknown): TableRecord {
  if (typeof comment !== 'string' || !comment.startsWith(marker)) return {}
  try {
    return JSON.parse(comment.slice(marker.length)) as TableRecord
  } catch {
    return {}
  }
}

/** The table as ferry sees it, or undefined when it does not exist. */
export async function describeCassandra(connection: CassandraConnection, name: string): Promise<CassandraTable | undefined> {
  const meta = await connection.metadata(name)
  if (!meta) return undefined
  const record = parseRecord(meta.comment)
  const partitionKey = meta.partitionKeys.map((c) => c.name)
  const clustering = meta.clusteringKeys.map((c, i) => ({ name: c.name, descending: meta.clusteringOrder[i] === 'DESC' }))
  const key = [...partitionKey, ...clustering.map((c) => c.name)]
  const types = new Map<string, CqlType>()
  const columns = meta.columns.map((c): ColumnInfo => {
    const type = c.type as unknown as CqlType
    types.set(c.name, type)
    const plain = { name: c.name, nativeType: cqlTypeName(type), ...logicalOf(type), nullable: !key.includes(c.name) }
    const recorded = record.columns?.[c.name]
    // Only what agrees with the column as it is now: a column altered since keeps its own type.
    if (!recorded || cqlTypeFor({ ...plain, ...recorded }) !== cqlTypeFor(plain)) return plain
    return { ...plain, ...recorded }
  })
  // In the order ferry created them, else the primary key's columns first (Cassandra's own order).
  const order = record.order ?? key
  columns.sort((a, b) => rank(order, a.name) - rank(order, b.name))
  return { schema: { table: name, columns, primaryKey: key, uniqueKeys: [key] }, partitionKey, clustering, types }
}

const rank = (key: readonly string[], name: string) => (key.includes(name) ? key.indexOf(name) : key.length)

// CQL types no other engine's column names: a column read from Cassandra keeps its type in a copy.
const cassandraOnly = new Set(['timeuuid', 'varint', 'duration', 'ascii', 'smallint', 'tinyint'])
const collectionWords = new Set(['list', 'set', 'map', 'tuple', 'frozen', 'ascii', 'bigint', 'blob', 'boolean', 'decimal', 'double', 'float', 'int', 'text', 'timestamp', 'uuid', 'varchar', 'varint', 'timeuuid', 'inet', 'date', 'time', 'smallint', 'tinyint', 'duration'])
const nativeLogical: Record<string, LogicalType> = { timeuuid: 'uuid', varint: 'decimal', duration: 'text', ascii: 'text', smallint: 'integer', tinyint: 'integer' }

/** The CQL type a column is created with; a column read from Cassandra keeps its own (collections too). */
export function cqlTypeFor(column: Pick<ColumnInfo, 'name' | 'type' | 'nativeType' | 'precision'>): string {
  const native = column.nativeType.trim().toLowerCase()
  if (cassandraOnly.has(native) && nativeLogical[native] === column.type) return native
  if (column.type === 'json' && /^(list|set|map|tuple|frozen)</.test(native) && (native.match(/[a-z_]+/g) ?? []).every((w) => collectionWords.has(w))) {
    return native
  }
  switch (column.type) {
    case 'integer':
      return 'int'
    case 'bigint':
      return 'bigint'
    case 'decimal':
      return 'decimal'
    case 'float':
      return column.precision !== undefined && column.precision <= 24 ? 'float' : 'double'
    case 'boolean':
      return 'boolean'
    case 'text':
    case 'json':
      return 'text'
    case 'date':
      return 'date'
    case 'timestamp':
    case 'timestamptz':
      return 'timestamp'
    case 'bytes':
      return 'blob'
    case 'uuid':
      return 'uuid'
    case 'geometry':
      throw new ConfigError(`column \`${column.name}\` is a geometry, which Cassandra has no type for`)
  }
}

/**
 * The partition key of a table ferry creates: the `partitionKey` setting (key columns), else the
 * key's first column; the key's other columns cluster, in key order.
 */
export function partitionColumns(schema: TableSchema, setting: readonly string[] | undefined): readonly string[] {
  const key = schema.primaryKey
  if (key.length === 0) throw new ConfigError(`target table \`${schema.table}\` needs a key: Cassandra tables have a primary key`)
  if (!setting) return [key[0]!]
  const strangers = setting.filter((c) => !key.includes(c))
  if (strangers.length) {
    throw new ConfigError(
      `cassandra setting \`partitionKey\`: ${strangers.map((c) => `\`${c}\``).join(', ')} ${strangers.length > 1 ? 'are' : 'is'} not in the target key (${key.map((c) => `\`${c}\``).join(', ')}); the partition key is made of target key columns`,
    )
  }
  return key.filter((c) => setting.includes(c))
}

/** `CREATE TABLE` for the schema, keyed on its primary key, with the comment that records what CQL does not say. */
export function createTableCql(connection: CassandraConnection, schema: TableSchema, partitionKey: readonly string[]): string {
  const clustering = schema.primaryKey.filter((c) => !partitionKey.includes(c))
  const columns = schema.columns.map((c) => `${quote(c.name)} ${cqlTypeFor(c)}`)
  const key = `PRIMARY KEY ((${partitionKey.map(quote).join(', ')})${clustering.map((c) => `, ${quote(c)}`).join('')})`
  const comment = `${marker}${JSON.stringify(recordOf(schema.columns))}`.replaceAll("'", "''")
  return `CREATE TABLE IF NOT EXISTS ${connection.table(schema.table)} (${[...columns, key].join(', ')}) WITH comment = '${comment}'`
}
