import { ConfigError } from '../errors.js'
import type { ColumnInfo, LogicalType, Row, TableSchema } from '../types.js'
import { naiveTimestamp, narrowInteger, parseJsonText, rowDecoderWith, textLength, utcTimestamp } from '../values.js'
import { quoteIdent } from './oracle.js'

/** Runs a query with positional parameters `:1…`; rows keyed by column name as Oracle spells it. */
export type OracleQuery = (sql: string, params: readonly unknown[]) => Promise<Row[]>

const owner = `SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA')`
export const columnsSql = `SELECT c.column_name AS "name", c.data_type AS "type", c.data_length AS "length", c.data_precision AS "precision",
  c.data_scale AS "scale", c.nullable AS "nullable", c.char_length AS "chars", c.char_used AS "unit", m.comments AS "marker"
FROM all_tab_columns c
LEFT JOIN all_col_comments m ON m.owner = c.owner AND m.table_name = c.table_name AND m.column_name = c.column_name
WHERE c.owner = ${owner} AND c.table_name = :1
ORDER BY c.column_id`
// Enabled primary and unique constraints, then unique indexes (a function-based one names hidden
// columns that the table's columns do not list, and is left out), in key order.
export const uniqueKeysSql = `SELECT k.constraint_name AS "name", CASE k.constraint_type WHEN 'P' THEN 0 ELSE 1 END AS "rank", c.column_name AS "col", c.position AS "pos"
FROM all_constraints k JOIN all_cons_columns c ON c.owner = k.owner AND c.constraint_name = k.constraint_name AND c.table_name = k.table_name
WHERE k.owner = ${owner} AND k.table_name = :1 AND k.constraint_type IN ('P', 'U') AND k.status = 'ENABLED'
UNION ALL
SELECT i.index_name, 2, c.column_name, c.column_position
FROM all_indexes i JOIN all_ind_columns c ON c.index_owner = i.owner AND c.index_name = i.index_name
WHERE i.table_owner = ${owner} AND i.table_name = :2 AND i.uniqueness = 'UNIQUE' AND i.status IN ('VALID', 'N/A')
ORDER BY 2, 1, 4`
// Tables and views whose names differ from the one asked for only in case.
export const caseVariantsSql = `SELECT object_name AS "name" FROM all_objects
WHERE owner = ${owner} AND object_type IN ('TABLE', 'VIEW') AND UPPER(object_name) = UPPER(:1) AND object_name <> :2`

interface CatalogColumn {
  name: string
  type: string
  length: string
  precision: string | null
  scale: string | null
  nullable: 'Y' | 'N'
  chars: string
  unit: 'B' | 'C' | null
  marker: string | null
}

/**
 * The table in the session's current schema, or undefined when there is none of that name. A
 * table whose name differs only in case (`USERS` for `users`) is not taken for it: ferry quotes
 * every name, and Oracle keeps the case of quoted names; the error says which name to write.
 */
export async function describeTable(query: OracleQuery, table: string): Promise<TableSchema | undefined> {
  const rows = (await query(columnsSql, [table])) as unknown as CatalogColumn[]
  if (rows.length === 0) {
    const variants = (await query(caseVariantsSql, [table, table])).map((r) => `\`${String(r.name)}\``)
    if (variants.length) {
      throw new ConfigError(
        `table \`${table}\` is not in the Oracle schema, but ${variants.join(', ')} is: Oracle keeps the case of quoted names, and ferry quotes every name (a table created without quotes has an upper-case name); write the name as the schema has it`,
      )
    }
    return undefined
  }
  const columns = rows.map(columnInfo)
  const names = new Set(columns.map((c) => c.name))
  const keys = new Map<string, { rank: number; columns: string[] }>()
  for (const k of await query(uniqueKeysSql, [table, table])) {
    const id = `${Number(k.rank) === 2 ? 'index' : 'constraint'}:${String(k.name)}`
    const key = keys.get(id) ?? { rank: Number(k.rank), columns: [] }
    key.columns.push(String(k.col))
    keys.set(id, key)
  }
  // A constraint's own index is listed too: each set of columns once.
  const seen = new Set<string>()
  const uniqueKeys = [...keys.values()].filter((k) => {
    const id = JSON.stringify(k.columns)
    const fresh = k.columns.every((c) => names.has(c)) && !seen.has(id)
    seen.add(id)
    return fresh
  })
  return {
    table,
    columns,
    primaryKey: uniqueKeys.find((k) => k.rank === 0)?.columns ?? [],
    uniqueKeys: uniqueKeys.map((k) => k.columns),
  }
}

const int = (v: string | null) => (v === null ? undefined : Number(v))

/** `NUMBER(30,10)`, `VARCHAR2(20 CHAR)`, `RAW(16)`, `TIMESTAMP(6) WITH TIME ZONE`: the type as declared. */
export function nativeTypeOf(c: Pick<CatalogColumn, 'type' | 'length' | 'precision' | 'scale' | 'chars' | 'unit'>): string {
  const t = c.type.toUpperCase()
  const [p, s] = [int(c.precision), int(c.scale)]
  if (t === 'NUMBER') return p === undefined ? (s === 0 ? 'NUMBER(*,0)' : 'NUMBER') : s ? `NUMBER(${p},${s})` : `NUMBER(${p})`
  if (t === 'FLOAT') return `FLOAT(${p ?? 126})`
  if (t === 'VARCHAR2' || t === 'CHAR') return `${t}(${c.chars} ${c.unit === 'C' ? 'CHAR' : 'BYTE'})`
  if (t === 'NVARCHAR2' || t === 'NCHAR') return `${t}(${c.chars})`
  if (t === 'RAW') return `RAW(${c.length})`
  return t
}

function columnInfo(c: CatalogColumn): ColumnInfo {
  const base = { name: c.name, nativeType: nativeTypeOf(c), nullable: c.nullable === 'Y' }
  return { ...base, ...(markedType(c.marker) ?? logicalType(c)) }
}

type Logical = Pick<ColumnInfo, 'type' | 'precision' | 'scale'>

/**
 * The marker ferry comments a created column with (`ferry:integer`, `ferry:decimal(50,10)`) where
 * Oracle has no type of its own for the logical one, so that it reads back as it was written.
 */
function markedType(marker: string | null): Logical | undefined {
  const m = /^ferry:(integer|bigint|boolean|date|json|uuid|decimal)(?:\((\d+),(\d+)\))?$/.exec(marker ?? '')
  if (!m) return undefined
  const type = m[1] as LogicalType
  if (type === 'date') return { type, scale: 0 }
  return { type, ...(m[2] !== undefined && { precision: Number(m[2]), scale: Number(m[3]) }) }
}

function logicalType(c: CatalogColumn): Logical {
  const t = c.type.toUpperCase()
  const [p, s] = [int(c.precision), int(c.scale)]
  if (t === 'NUMBER') {
    if (s === 0 && p !== undefined && p <= 9) return { type: 'integer' }
    if (s === 0 && p !== undefined && p <= 18) return { type: 'bigint' }
    // NUMBER(*,0) (INTEGER) holds 38 digits; NUMBER holds any 38 significant digits.
    if (s === 0) return { type: 'decimal', precision: p ?? 38, scale: 0 }
    if (p === undefined || s === undefined || s < 0) return { type: 'decimal' }
    return { type: 'decimal', precision: p, scale: s }
  }
  if (t === 'FLOAT') return { type: 'decimal' }
  if (t === 'BINARY_DOUBLE') return { type: 'float' }
  if (t === 'BINARY_FLOAT') return { type: 'float', precision: 24 }
  if (t === 'DATE') return { type: 'timestamp', scale: 0 }
  const timestamp = /^TIMESTAMP(?:\((\d)\))?( WITH (?:LOCAL )?TIME ZONE)?$/.exec(t)
  if (timestamp) return { type: timestamp[2] ? 'timestamptz' : 'timestamp', scale: Number(timestamp[1] ?? 6) }
  if (t === 'RAW' || t === 'LONG RAW' || t === 'BLOB') return { type: 'bytes' }
  if (t === 'JSON') return { type: 'json' }
  if (t === 'BOOLEAN') return { type: 'boolean' }
  return { type: 'text' }
}

/** Characters a VARCHAR2 ferry creates may declare: 1000 four-byte characters fill its 4000 bytes. */
const maxVarchar = 1000

/**
 * Logical type → Oracle type for tables ferry creates, and the marker comment it needs. Key
 * columns need types an index takes (no LOBs). Text is VARCHAR2 with CHAR length semantics (or
 * NVARCHAR2/NCLOB when the database character set is not Unicode), up to 1000 characters, else a CLOB.
 */
export function oracleType(column: ColumnInfo, key: boolean, unicode = true): { type: string; marker?: string } {
  const varchar = (n: number) => (unicode ? `VARCHAR2(${n} CHAR)` : `NVARCHAR2(${n})`)
  const lob = unicode ? 'CLOB' : 'NCLOB'
  switch (column.type) {
    case 'integer':
      return { type: 'NUMBER(10)', marker: 'integer' }
    case 'bigint':
      return { type: 'NUMBER(19)', marker: 'bigint' }
    case 'decimal': {
      const { precision: p, scale: s = 0 } = column
      if (p === undefined) return { type: 'NUMBER' }
      if (p <= 38 && s >= 0 && s <= p) return { type: s ? `NUMBER(${p},${s})` : `NUMBER(${p})` }
      // Wider than NUMBER's 38 digits: kept exact as text.
      return { type: key || p + 2 <= maxVarchar ? varchar(Math.min(p + 2, maxVarchar)) : lob, marker: `decimal(${p},${s})` }
    }
    case 'float':
      return { type: 'BINARY_DOUBLE' }
    case 'boolean':
      return { type: 'NUMBER(1)', marker: 'boolean' }
    case 'text': {
      const length = textLength(column)
      if (length !== undefined && length <= maxVarchar) return { type: varchar(length) }
      return { type: key ? varchar(maxVarchar) : lob }
    }
    case 'date':
      return { type: 'DATE', marker: 'date' }
    case 'timestamp':
      return { type: 'TIMESTAMP(9)' }
    case 'timestamptz':
      return { type: 'TIMESTAMP(9) WITH TIME ZONE' }
    case 'json':
      return { type: key ? varchar(maxVarchar) : lob, marker: 'json' }
    case 'bytes':
      return { type: key ? 'RAW(2000)' : 'BLOB' }
    case 'uuid':
      return { type: 'RAW(16)', marker: 'uuid' }
    case 'geometry':
      // Refused earlier with the table's name (checkGeometry).
      throw new ConfigError(`column \`${column.name}\` is a geometry, which ferry does not write to Oracle`)
  }
}

/**
 * The expression that reads a column exactly where the driver's plain read is lossy: dates and
 * timestamps come as JavaScript Dates (milliseconds, the machine's zone), so they are read as
 * text (a signed year: a BC date is not silently made AD); instants in UTC. Undefined: the column.
 */
export function selectExpression(column: ColumnInfo): string | undefined {
  const name = quoteIdent(column.name)
  const t = column.nativeType.toUpperCase()
  if (t === 'DATE') return `TO_CHAR(${name}, 'SYYYY-MM-DD HH24:MI:SS')`
  if (/^TIMESTAMP(\(\d\))?$/.test(t)) return `TO_CHAR(${name}, 'SYYYY-MM-DD HH24:MI:SS.FF9')`
  if (/^TIMESTAMP(\(\d\))? WITH TIME ZONE$/.test(t)) return `TO_CHAR(SYS_EXTRACT_UTC(${name}), 'SYYYY-MM-DD HH24:MI:SS.FF9')`
  // The session's time zone is UTC (src/engines/oracle-connection.ts): a local one reads as UTC.
  if (/^TIMESTAMP(\(\d\))? WITH LOCAL TIME ZONE$/.test(t)) return `TO_CHAR(${name}, 'SYYYY-MM-DD HH24:MI:SS.FF9')`
  if (t.startsWith('INTERVAL')) return `TO_CHAR(${name})`
  if (t === 'ROWID' || t === 'UROWID') return `ROWIDTOCHAR(${name})`
  return undefined
}

/** Oracle's NUMBER text (`.5`, `-.5`) as the shared decimal form, padded to the column's scale. */
export function decimalText(text: string, scale?: number): string {
  let t = text.startsWith('.') ? `0${text}` : text.startsWith('-.') ? `-0${text.slice(1)}` : text
  if (scale !== undefined && scale > 0 && /^-?\d+(\.\d*)?$/.test(t)) {
    const [whole, fraction = ''] = t.split('.')
    t = `${whole}.${fraction.padEnd(scale, '0')}`
  }
  return t
}

/** `1234` (hex of RAW(16)) → `xxxxxxxx-xxxx-…`. */
function uuidText(bytes: Buffer): string {
  const h = bytes.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** Turns what oracledb hands over (NUMBER and LOBs fetched as text and Buffers, dates as `selectExpression` text) into the shared forms. */
export function rowDecoder(schema: TableSchema): (row: Row) => void {
  const scales = new Map(schema.columns.map((c) => [c.name, c.scale]))
  const decode = rowDecoderWith(schema, {
    integer: (v) => (typeof v === 'string' ? Number(v) : v),
    bigint: (v) => (typeof v === 'string' ? narrowInteger(BigInt(v)) : v),
    float: (v) => (typeof v === 'string' ? Number(v) : v),
    boolean: (v) => (v === '1' || v === 1 ? true : v === '0' || v === 0 ? false : v),
    date: (v) => (typeof v === 'string' ? v.trim().replace(/ 00:00:00$/, '') : v),
    timestamp: (v) => (typeof v === 'string' ? (naiveTimestamp(v.trim()) ?? v) : v),
    timestamptz: (v) => (typeof v === 'string' ? (utcTimestamp(`${v.trim()}Z`) ?? v) : v),
    json: (v) => (typeof v === 'string' ? parseJsonText(v) : v),
    uuid: (v) => (Buffer.isBuffer(v) && v.length === 16 ? uuidText(v) : v),
  })
  const decimals = schema.columns.filter((c) => c.type === 'decimal').map((c) => c.name)
  return (row) => {
    decode(row)
    for (const name of decimals) {
      const v = row[name]
      if (typeof v === 'string') row[name] = decimalText(v, scales.get(name))
    }
  }
}
