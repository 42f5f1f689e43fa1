import { ConfigError } from '../errors.js'
import type { ColumnInfo, LogicalType, Row, TableSchema } from '../types.js'
import { naiveTimestamp, narrowInteger, parseJsonText, rowDecoderWith, textLength, utcTimestamp } from '../values.js'
import { quoteIdent } from './mssql.js'

/** What ferry knows of a column beyond its `ColumnInfo`: what writes into it need. */
export interface MssqlColumnDetails {
  /** An IDENTITY column: inserts that carry it need IDENTITY_INSERT. */
  readonly identity: boolean
  /** The code page of a char/varchar/text column's collation (65001 for UTF-8 ones). */
  readonly codePage?: number
}

export interface MssqlTable {
  readonly schema: TableSchema
  readonly details: ReadonlyMap<string, MssqlColumnDetails>
}

/** Runs a query with positional parameters `@p1…`. */
export type MssqlQuery = (sql: string, params: readonly unknown[]) => Promise<Row[]>

// The table in the user's default schema; a view too. CLR types (geometry, hierarchyid…) share
// system_type_id 240 and are named by their user type. Markers are ferry's extended properties.
const objectId = `OBJECT_ID(QUOTENAME(SCHEMA_NAME()) + N'.' + QUOTENAME(@p1))`
export const columnsSql = `SELECT c.name, CASE WHEN c.system_type_id = 240 THEN TYPE_NAME(c.user_type_id) ELSE TYPE_NAME(c.system_type_id) END AS type,
  c.max_length, c.precision, c.scale, c.is_nullable, c.is_identity, CAST(COLLATIONPROPERTY(c.collation_name, 'CodePage') AS int) AS code_page,
  CAST(ep.value AS nvarchar(100)) AS marker
FROM sys.columns c
LEFT JOIN sys.extended_properties ep ON ep.class = 1 AND ep.major_id = c.object_id AND ep.minor_id = c.column_id AND ep.name = N'ferry'
WHERE c.object_id = ${objectId}
ORDER BY c.column_id`
// Unique indexes over whole columns (no filter), the primary key first; included columns are carried, not unique.
export const uniqueKeysSql = `SELECT i.index_id, i.is_primary_key, c.name AS col
FROM sys.indexes i
JOIN sys.index_columns ic ON ic.object_id = i.object_id AND ic.index_id = i.index_id AND ic.key_ordinal > 0
JOIN sys.columns c ON c.object_id = ic.object_id AND c.column_id = ic.column_id
WHERE i.object_id = ${objectId} AND i.is_unique = 1 AND i.has_filter = 0 AND i.is_disabled = 0
ORDER BY i.is_primary_key DESC, i.index_id, ic.key_ordinal`

interface CatalogColumn {
  name: string
  type: string
  max_length: number
  precision: number
  scale: number
  is_nullable: boolean
  is_identity: boolean
  code_page: number | null
  marker: string | null
}

/** The table's columns, keys and write details, or undefined when there is none of that name. */
export async function describeTable(query: MssqlQuery, table: string): Promise<MssqlTable | undefined> {
  const rows = (await query(columnsSql, [table])) as unknown as CatalogColumn[]
  if (rows.length === 0) return undefined
  const keys = new Map<number, { primary: boolean; columns: string[] }>()
  for (const k of (await query(uniqueKeysSql, [table])) as unknown as { index_id: number; is_primary_key: boolean; col: string }[]) {
    const key = keys.get(k.index_id) ?? { primary: k.is_primary_key, columns: [] }
    key.columns.push(k.col)
    keys.set(k.index_id, key)
  }
  const uniqueKeys = [...keys.values()]
  const schema: TableSchema = {
    table,
    columns: rows.map(columnInfo),
    primaryKey: uniqueKeys.find((k) => k.primary)?.columns ?? [],
    uniqueKeys: uniqueKeys.map((k) => k.columns),
  }
  const details = new Map(rows.map((c) => [c.name, { identity: c.is_identity, ...(c.code_page !== null && { codePage: c.code_page }) }]))
  return { schema, details }
}

/** `nvarchar(20)`, `varbinary(max)`, `decimal(30,10)`, `datetime2(7)`: the type as it is declared. */
export function nativeTypeOf(c: Pick<CatalogColumn, 'type' | 'max_length' | 'precision' | 'scale'>): string {
  const t = c.type.toLowerCase()
  const size = (n: number) => (c.max_length === -1 ? 'max' : String(n))
  if (t === 'nchar' || t === 'nvarchar') return `${t}(${size(c.max_length / 2)})`
  if (t === 'char' || t === 'varchar' || t === 'binary' || t === 'varbinary') return `${t}(${size(c.max_length)})`
  if (t === 'decimal' || t === 'numeric') return `${t}(${c.precision},${c.scale})`
  if (t === 'datetime2' || t === 'datetimeoffset' || t === 'time') return `${t}(${c.scale})`
  return t
}

/** The type's name and size: `nvarchar(max)` → { base: 'nvarchar', size: 'max' }. */
export function parseNativeType(nativeType: string): { base: string; size?: number | 'max'; scale?: number } {
  const m = /^\s*(\w+)\s*(?:\(\s*(\d+|max)\s*(?:,\s*(\d+)\s*)?\))?/i.exec(nativeType)
  if (!m) return { base: nativeType.toLowerCase() }
  const size = m[2] === undefined ? undefined : m[2].toLowerCase() === 'max' ? ('max' as const) : Number(m[2])
  return { base: m[1]!.toLowerCase(), ...(size !== undefined && { size }), ...(m[3] !== undefined && { scale: Number(m[3]) }) }
}

function columnInfo(c: CatalogColumn): ColumnInfo {
  const base: Omit<ColumnInfo, 'type'> = { name: c.name, nativeType: nativeTypeOf(c), nullable: c.is_nullable }
  const marked = markedType(c.marker)
  if (marked) return { ...base, ...marked }
  return { ...base, ...logicalType(c) }
}

/** A marker ferry set on a column it created (`json`, `decimal(50,10)`), read back as the logical type. */
function markedType(marker: string | null): Pick<ColumnInfo, 'type' | 'precision' | 'scale'> | undefined {
  if (marker === 'json') return { type: 'json' }
  const decimal = /^decimal(?:\((\d+),(\d+)\))?$/.exec(marker ?? '')
  if (!decimal) return undefined
  return { type: 'decimal', ...(decimal[1] !== undefined && { precision: Number(decimal[1]), scale: Number(decimal[2]) }) }
}

function logicalType(c: CatalogColumn): Pick<ColumnInfo, 'type' | 'precision' | 'scale'> {
  switch (c.type.toLowerCase()) {
    case 'tinyint':
    case 'smallint':
    case 'int':
      return { type: 'integer' }
    case 'bigint':
      return { type: 'bigint' }
    case 'bit':
      return { type: 'boolean' }
    case 'decimal':
    case 'numeric':
      return { type: 'decimal', precision: c.precision, scale: c.scale }
    case 'money':
      return { type: 'decimal', precision: 19, scale: 4 }
    case 'smallmoney':
      return { type: 'decimal', precision: 10, scale: 4 }
    case 'float':
      return { type: 'float' }
    case 'real':
      return { type: 'float', precision: 24 }
    case 'date':
      return { type: 'date' }
    case 'datetime2':
      return { type: 'timestamp', scale: c.scale }
    // datetime keeps 1/300 s (shown as .000, .003, .007), smalldatetime whole minutes.
    case 'datetime':
      return { type: 'timestamp', scale: 3 }
    case 'smalldatetime':
      return { type: 'timestamp', scale: 0 }
    case 'datetimeoffset':
      return { type: 'timestamptz', scale: c.scale }
    case 'uniqueidentifier':
      return { type: 'uuid' }
    case 'binary':
    case 'varbinary':
    case 'image':
    case 'timestamp':
      return { type: 'bytes' }
    default:
      return { type: 'text' }
  }
}

/** Where a text's length allows, `nvarchar(n)`; SQL Server's limit for a sized one is 4000. */
const maxSizedText = 4000
/** Compared code point by code point: keys differing in case or accents are distinct. */
const bin2 = ' COLLATE Latin1_General_100_BIN2'

/**
 * Logical type → SQL Server type for tables ferry creates; `key` columns need a bounded type (an
 * index key holds at most 900 bytes). Text is compared by code point (a BIN2 collation), so keys
 * that differ in case or accents stay distinct rows; the marker, if any, is what `markerOf` sets.
 */
export function mssqlType(column: ColumnInfo, key: boolean): string {
  switch (column.type) {
    case 'integer':
      return 'int'
    case 'bigint':
      return 'bigint'
    case 'decimal': {
      const { precision: p, scale: s = 0 } = column
      // Unconstrained (PostgreSQL's numeric, Oracle's NUMBER): wide enough for most values; a value
      // that does not fit is a refused row, never a rounded one.
      if (p === undefined) return 'decimal(38,10)'
      if (p > 38 || s > p || s < 0) return `nvarchar(${key ? 450 : Math.min(p + 2, maxSizedText)})${bin2}`
      return `decimal(${p},${s})`
    }
    case 'float':
      return 'float'
    case 'boolean':
      return 'bit'
    case 'text': {
      const length = textLength(column)
      if (length !== undefined && length <= (key ? 450 : maxSizedText)) return `nvarchar(${length})${bin2}`
      return `nvarchar(${key ? 450 : 'max'})${bin2}`
    }
    case 'date':
      return 'date'
    case 'timestamp':
      return 'datetime2(7)'
    case 'timestamptz':
      return 'datetimeoffset(7)'
    case 'json':
      return `nvarchar(${key ? 450 : 'max'})${bin2}`
    case 'bytes':
      return key ? 'varbinary(900)' : 'varbinary(max)'
    case 'uuid':
      return 'uniqueidentifier'
    case 'geometry':
      // Refused earlier with the table's name (checkGeometry).
      throw new ConfigError(`column \`${column.name}\` is a geometry, which ferry does not write to SQL Server`)
  }
}

/** The extended property a created column gets so that it reads back as its logical type. */
export function markerOf(column: ColumnInfo, key: boolean): string | undefined {
  if (column.type === 'json') return 'json'
  if (column.type === 'decimal' && mssqlType(column, key).startsWith('nvarchar')) {
    return column.precision === undefined ? 'decimal' : `decimal(${column.precision},${column.scale ?? 0})`
  }
  return undefined
}

/**
 * The expression that reads a column exactly where tedious' plain read is lossy: decimals come
 * as JavaScript numbers (15-17 digits) and dates as Dates (milliseconds, a zone), so they are
 * read as text; CLR types as their text (a geometry as EWKT, with its SRID). Undefined: the column.
 */
export function selectExpression(column: ColumnInfo): string | undefined {
  const name = quoteIdent(column.name)
  switch (parseNativeType(column.nativeType).base) {
    case 'decimal':
    case 'numeric':
      return `CONVERT(varchar(50), ${name})`
    case 'money':
    case 'smallmoney':
      return `CONVERT(varchar(50), ${name}, 2)`
    case 'date':
      return `CONVERT(char(10), ${name}, 23)`
    case 'datetime2':
    case 'datetime':
    case 'smalldatetime':
      return `CONVERT(varchar(27), ${name}, 121)`
    case 'datetimeoffset':
      return `CONVERT(varchar(34), SWITCHOFFSET(${name}, '+00:00'), 121)`
    case 'time':
      return `CONVERT(varchar(16), ${name})`
    case 'xml':
    case 'sql_variant':
      return `CONVERT(nvarchar(max), ${name})`
    case 'hierarchyid':
      return `${name}.ToString()`
    case 'geometry':
    case 'geography':
      return `'SRID=' + CAST(${name}.STSrid AS varchar(11)) + ';' + ${name}.ToString()`
    default:
      return undefined
  }
}

/** Turns what tedious hands over (and the text of `selectExpression`) into the shared value forms. */
export const rowDecoder = (schema: TableSchema): ((row: Row) => void) => rowDecoderWith(schema, decoders)

const decoders: Partial<Record<LogicalType, (v: unknown) => unknown>> = {
  // tedious reads bigint as text, so that no digit is lost.
  bigint: (v) => (typeof v === 'string' ? narrowInteger(BigInt(v)) : v),
  decimal: (v) => String(v),
  timestamp: (v) => (typeof v === 'string' ? (naiveTimestamp(v) ?? v) : v),
  // SWITCHOFFSET put it in UTC; a text without an offset is UTC too.
  timestamptz: (v) => (typeof v === 'string' ? (utcTimestamp(/[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`) ?? v) : v),
  uuid: (v) => (typeof v === 'string' ? v.toLowerCase() : v),
  json: (v) => (typeof v === 'string' ? parseJsonText(v) : v),
}
