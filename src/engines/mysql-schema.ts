import type mysql from 'mysql2/promise'
import { ewkbFromMysql } from '../geometry.js'
import type { ColumnInfo, GeometryKind, LogicalType, Row, TableSchema } from '../types.js'
import { naiveTimestamp, narrowInteger, parseJsonText, rowDecoderWith, textLength, utcTimestamp } from '../values.js'
import { mysqlSpelling } from './mysql.js'
import { checkClauses, type CreateExtras, createTableSql as createTableWith, defaultClause } from './sql/ddl.js'

interface CatalogColumn {
  name: string
  dataType: string
  columnType: string
  nullable: string
  precision: string | number | null
  scale: string | number | null
  comment: string
}

const columnsSql = `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, IS_NULLABLE AS nullable,
  NUMERIC_PRECISION AS \`precision\`, NUMERIC_SCALE AS scale, COLUMN_COMMENT AS comment
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`
// Unique indexes over whole columns or prefixes of them (unique prefixes make the columns unique
// too); an index over an expression has no COLUMN_NAME and is left out.
const uniqueSql = `SELECT INDEX_NAME AS name, COLUMN_NAME AS col FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND NON_UNIQUE = 0 ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX`
const jsonChecksSql = `SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = ?`
// The SRID a geometry column declares: MariaDB's REF_SYSTEM_ID (0 when none), MySQL 8's SRID.
const sridSql = {
  mariadb: `SELECT G_GEOMETRY_COLUMN AS name, SRID AS srid FROM information_schema.GEOMETRY_COLUMNS
WHERE G_TABLE_SCHEMA = DATABASE() AND G_TABLE_NAME = ?`,
  mysql: `SELECT COLUMN_NAME AS name, SRS_ID AS srid FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND SRS_ID IS NOT NULL`,
}

/** MySQL's spatial types (DATA_TYPE) and the kind of geometry each holds. */
const geometryKinds: Record<string, GeometryKind> = {
  geometry: 'GEOMETRY',
  point: 'POINT',
  linestring: 'LINESTRING',
  polygon: 'POLYGON',
  multipoint: 'MULTIPOINT',
  multilinestring: 'MULTILINESTRING',
  multipolygon: 'MULTIPOLYGON',
  geometrycollection: 'GEOMETRYCOLLECTION',
  geomcollection: 'GEOMETRYCOLLECTION',
}

/**
 * A column's logical type where MySQL has no type of its own for it (`DATETIME(6)` holding UTC
 * instants, `CHAR(36)` holding UUIDs), so that it survives a trip through MySQL.
 */
const markedTypes = new Set<string>(['timestamptz', 'uuid', 'decimal', 'json'])
const mark = (type: LogicalType): string => ` COMMENT 'ferry:${type}'`

export async function describeTable(
  conn: mysql.Connection,
  mariadb: boolean,
  table: string,
): Promise<TableSchema | undefined> {
  const [rows] = await conn.query<(CatalogColumn & mysql.RowDataPacket)[]>(columnsSql, [table])
  if (rows.length === 0) return undefined
  const uniqueKeys = await uniqueKeysOf(conn, table)
  const json = mariadb ? await jsonColumns(conn, table) : new Set<string>()
  const srids = rows.some((c) => geometryKinds[c.dataType.toLowerCase()]) ? await sridsOf(conn, mariadb, table) : new Map()
  const columns = rows.map((c): ColumnInfo => {
    const type = json.has(c.name) ? 'json' : logicalType(c)
    const decimal = type === 'decimal' && c.precision !== null && c.dataType !== 'bigint'
    const srid = srids.get(c.name)
    return {
      name: c.name,
      nativeType: c.columnType,
      type,
      nullable: c.nullable === 'YES',
      ...(decimal && { precision: Number(c.precision), scale: Number(c.scale ?? 0) }),
      ...(c.dataType === 'bigint' && type === 'decimal' && { precision: 20, scale: 0 }),
      // FLOAT is single precision (a FLOAT(p) with p > 24 is reported as double).
      ...(type === 'float' && c.dataType.toLowerCase() === 'float' && { precision: 24 }),
      ...(type === 'geometry' && { geometry: { kind: geometryKinds[c.dataType.toLowerCase()]!, ...(srid && { srid }) } }),
    }
  })
  return { table, columns, primaryKey: uniqueKeys.get('PRIMARY') ?? [], uniqueKeys: [...uniqueKeys.values()] }
}

async function uniqueKeysOf(conn: mysql.Connection, table: string): Promise<Map<string, string[]>> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(uniqueSql, [table])
  const keys = new Map<string, (string | null)[]>()
  for (const r of rows) keys.set(String(r.name), [...(keys.get(String(r.name)) ?? []), r.col === null ? null : String(r.col)])
  return new Map([...keys].filter((e): e is [string, string[]] => e[1].every((c) => c !== null)))
}

/** MariaDB's JSON columns: LONGTEXT with the `json_valid` check it adds for them. */
async function jsonColumns(conn: mysql.Connection, table: string): Promise<Set<string>> {
  const [checks] = await conn.query<mysql.RowDataPacket[]>(jsonChecksSql, [table])
  const names = checks.map((c) => /^json_valid\(`((?:[^`]|``)+)`\)$/.exec(String(c.clause))?.[1])
  return new Set(names.flatMap((n) => (n ? [n.replaceAll('``', '`')] : [])))
}

/** Each geometry column's declared SRID; SRID 0 (MariaDB's default) is left out as none. */
async function sridsOf(conn: mysql.Connection, mariadb: boolean, table: string): Promise<Map<string, number>> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(mariadb ? sridSql.mariadb : sridSql.mysql, [table])
  return new Map(rows.filter((r) => Number(r.srid) > 0).map((r) => [String(r.name), Number(r.srid)]))
}

function logicalType(c: CatalogColumn): LogicalType {
  const marked = /^ferry:(\w+)$/.exec(c.comment)?.[1]
  if (marked && markedTypes.has(marked)) return marked as LogicalType
  const unsigned = /unsigned/i.test(c.columnType)
  switch (c.dataType.toLowerCase()) {
    case 'tinyint':
      return /^tinyint\(1\)/i.test(c.columnType) ? 'boolean' : 'integer'
    case 'smallint':
    case 'mediumint':
    case 'year':
      return 'integer'
    case 'int':
    case 'integer':
      return unsigned ? 'bigint' : 'integer'
    case 'bigint':
      // BIGINT UNSIGNED reaches 2^64-1, past any signed 64-bit type.
      return unsigned ? 'decimal' : 'bigint'
    case 'decimal':
    case 'numeric':
      return 'decimal'
    case 'float':
    case 'double':
    case 'real':
      return 'float'
    case 'date':
      return 'date'
    case 'datetime':
      return 'timestamp'
    case 'timestamp':
      // TIMESTAMP stores an instant (read in the session's UTC).
      return 'timestamptz'
    case 'json':
      return 'json'
    case 'uuid':
      return 'uuid'
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
    case 'bit':
      return 'bytes'
    default:
      return geometryKinds[c.dataType.toLowerCase()] ? 'geometry' : 'text'
  }
}

/**
 * Logical type → MySQL type; `key` columns need a bounded length to be indexed. A float is DOUBLE
 * even from a FLOAT: it holds every single-precision value exactly, and whatever a transform computes.
 */
export function mysqlType(column: ColumnInfo, key: boolean, mariadb = true): string {
  const domain = column.domain
  if (domain?.kind === 'year') return 'YEAR'
  if (domain) return `${domain.kind === 'enum' ? 'ENUM' : 'SET'}(${domain.values.map((v) => `'${v.replaceAll("'", "''").replaceAll('\\', '\\\\')}'`).join(',')})`
  switch (column.type) {
    case 'integer':
      return 'INT'
    case 'bigint':
      return 'BIGINT'
    case 'decimal': {
      const { precision: p, scale: s = 0 } = column
      if (p === undefined) return 'DECIMAL(65,30)'
      // Wider than MySQL's DECIMAL(65,30): kept exact as text.
      if (p > 65 || s > 30 || s > p) return `${key ? 'VARCHAR(255)' : 'LONGTEXT'}${mark('decimal')}`
      return `DECIMAL(${p},${s})`
    }
    case 'float':
      return 'DOUBLE'
    case 'boolean':
      return 'BOOLEAN'
    case 'text': {
      const length = textLength(column)
      if (length !== undefined && length <= 2000) return `VARCHAR(${length})`
      return key ? 'VARCHAR(255)' : 'LONGTEXT'
    }
    case 'date':
      return 'DATE'
    case 'timestamp':
      return 'DATETIME(6)'
    case 'timestamptz':
      // Not TIMESTAMP: it only reaches from 1970 to 2038.
      return `DATETIME(6)${mark('timestamptz')}`
    case 'json':
      return key ? `VARCHAR(255)${mark('json')}` : 'JSON'
    case 'bytes':
      return key ? 'VARBINARY(255)' : 'LONGBLOB'
    case 'uuid':
      return `CHAR(36) CHARACTER SET ascii COLLATE ascii_bin${mark('uuid')}`
    case 'geometry':
      return geometryType(column, mariadb)
  }
}

/** `POINT REF_SYSTEM_ID=4326` (MariaDB) or `POINT SRID 4326` (MySQL 8): the kind and SRID kept. */
function geometryType(column: ColumnInfo, mariadb: boolean): string {
  const { kind = 'GEOMETRY', srid } = column.geometry ?? {}
  if (srid === undefined) return kind
  return mariadb ? `${kind} REF_SYSTEM_ID=${srid}` : `${kind} SRID ${srid}`
}

// A binary NO PAD collation: keys differing only in case, accents or trailing spaces stay
// distinct (utf8mb4_bin pads: 'a' and 'a ' would be one key), and sort by code point as in
// PostgreSQL's C collation and SQLite.
export const createTableSql = (table: string, schema: TableSchema, mariadb: boolean): string =>
  createTableWith(
    mysqlSpelling,
    table,
    schema,
    (column, key) => mysqlType(column, key, mariadb),
    ` ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=${mariadb ? 'utf8mb4_nopad_bin' : 'utf8mb4_0900_bin'}`,
    mysqlExtras(schema),
  )

/**
 * Defaults, AUTO_INCREMENT, ON UPDATE and CHECKs of a whole-database copy's tables. AUTO_INCREMENT
 * must lead an index: an identity column that does not lead the primary key gets a KEY of its own.
 */
function mysqlExtras(schema: TableSchema): CreateExtras {
  const lone = schema.columns.filter((c) => c.identity && schema.primaryKey[0] !== c.name)
  return {
    column: (c) => [defaultClause(c.identity ? undefined : c.default), c.onUpdate ? `ON UPDATE ${c.onUpdate}` : '', c.identity ? 'AUTO_INCREMENT' : ''].filter(Boolean).join(' '),
    constraints: (s) => [...lone.map((c) => `KEY (${mysqlSpelling.quote(c.name)})`), ...checkClauses(mysqlSpelling, s)],
  }
}

/** Turns what mysql2 hands over (with the `exact` options) into the shared value forms. */
export const rowDecoder = (schema: TableSchema): ((row: Row) => void) => rowDecoderWith(schema, decoders)

const decoders: Partial<Record<LogicalType, (v: unknown) => unknown>> = {
  bigint: (v) => (typeof v === 'string' ? narrowInteger(BigInt(v)) : v),
  // tinyint(1) holding something other than 0/1 stays a number rather than lose its value.
  boolean: (v) => (v === 0 || v === 1 ? v === 1 : v),
  timestamp: (v) => naiveTimestamp(v) ?? v,
  timestamptz: (v) => (typeof v === 'string' ? (utcTimestamp(`${v}Z`) ?? v) : v),
  json: (v) => (typeof v === 'string' ? parseJsonText(v) : v),
  decimal: (v) => String(v),
  // Read as MySQL stores them (see `selectExpression`), a Buffer of the SRID and the WKB.
  geometry: (v) => (Buffer.isBuffer(v) ? ewkbFromMysql(v) : v),
}

/**
 * The expression that reads a column exactly, where mysql2's plain read of it is lossy: the text
 * protocol writes a FLOAT with 6 significant digits (123456.7890625 as 123457), and mysql2 turns a
 * geometry into objects of its points, without its SRID or kind. Undefined: the column itself.
 */
export function selectExpression(column: ColumnInfo): string | undefined {
  const name = mysqlSpelling.quote(column.name)
  // DOUBLE holds every FLOAT value, and the text protocol writes it with all the digits it needs.
  if (column.type === 'float' && column.precision === 24) return `CAST(${name} AS DOUBLE)`
  if (column.type === 'geometry') return `CAST(${name} AS BINARY)`
  return undefined
}
