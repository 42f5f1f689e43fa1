import type { Catalog, SkippedObject } from '../catalog.js'
import type { ColumnDomain, ColumnInfo, ForeignKeyInfo, IndexInfo, ReferentialAction, Row, TableSchema } from '../types.js'

type Query = (sql: string, params: readonly unknown[]) => Promise<Row[]>

const tablesSql = `SELECT TABLE_NAME AS name, TABLE_TYPE AS type FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME`
const columnsSql = `SELECT TABLE_NAME AS tbl, COLUMN_NAME AS name, COLUMN_DEFAULT AS dflt, EXTRA AS extra, COLUMN_TYPE AS ctype,
  DATA_TYPE AS dtype, IS_NULLABLE AS nullable FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, ORDINAL_POSITION`
const indexesSql = `SELECT TABLE_NAME AS tbl, INDEX_NAME AS name, NON_UNIQUE AS nonunique, COLUMN_NAME AS col, SUB_PART AS part,
  COLLATION AS dir, INDEX_TYPE AS kind FROM information_schema.STATISTICS
WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME <> 'PRIMARY' ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`
const foreignKeysSql = `SELECT k.TABLE_NAME AS tbl, k.CONSTRAINT_NAME AS name, k.COLUMN_NAME AS col, k.REFERENCED_TABLE_NAME AS ref,
  k.REFERENCED_COLUMN_NAME AS refcol, k.REFERENCED_TABLE_SCHEMA = DATABASE() AS same, r.UPDATE_RULE AS upd, r.DELETE_RULE AS del
FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`
const checksSql = `SELECT TABLE_NAME AS tbl, CONSTRAINT_NAME AS name, CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS
WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME`
const othersSql = `SELECT 'trigger' AS kind, CONCAT(EVENT_OBJECT_TABLE, '.', TRIGGER_NAME) AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()
UNION ALL SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()
UNION ALL SELECT 'event', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE()`

/** The database's tables with their full schema; `describe` gives each table's columns and keys. */
export async function mysqlCatalog(query: Query, describe: (table: string) => Promise<TableSchema | undefined>, mariadb: boolean): Promise<Catalog> {
  const skipped: SkippedObject[] = []
  const names: string[] = []
  for (const r of await query(tablesSql, [])) {
    if (r.type === 'BASE TABLE') names.push(String(r.name))
    else skipped.push({ kind: 'view', name: String(r.name), reason: 'views are not copied; create it on the target from its definition' })
  }
  for (const r of await query(othersSql, [])) skipped.push({ kind: String(r.kind), name: String(r.name), reason: `${String(r.kind)}s are not copied` })
  const columns = group(await query(columnsSql, []))
  const indexes = group(await query(indexesSql, []))
  const foreignKeys = group(await query(foreignKeysSql, []))
  const checks = group(await query(checksSql, []))
  const tables: TableSchema[] = []
  for (const name of names) {
    const base = await describe(name)
    if (!base) continue
    const json = new Set(base.columns.filter((c) => c.type === 'json').map((c) => c.name))
    tables.push({
      ...base,
      columns: base.columns.map((c) => column(name, c, columns.get(name)?.find((r) => r.name === c.name), mariadb, skipped)),
      indexes: indexesOf(indexes.get(name) ?? []),
      foreignKeys: foreignKeysOf(name, foreignKeys.get(name) ?? [], skipped),
      // MariaDB's JSON columns are LONGTEXT with a json_valid check: the type, not a constraint.
      checks: (checks.get(name) ?? [])
        .filter((k) => !(json.has(String(k.name)) && /^json_valid\(/i.test(String(k.clause))))
        .map((k) => ({ name: String(k.name), sql: String(k.clause) })),
    })
  }
  return { engine: 'mysql', tables, skipped }
}

function group(rows: Row[]): Map<string, Row[]> {
  const map = new Map<string, Row[]>()
  for (const r of rows) map.set(String(r.tbl), [...(map.get(String(r.tbl)) ?? []), r])
  return map
}

function column(table: string, c: ColumnInfo, r: Row | undefined, mariadb: boolean, skipped: SkippedObject[]): ColumnInfo {
  if (!r) return c
  const extra = String(r.extra ?? '')
  if (/GENERATED/i.test(extra) && !/DEFAULT_GENERATED/i.test(extra)) {
    skipped.push({ kind: 'generated column', name: `${table}.${c.name}`, reason: 'its values are copied, its expression is not' })
  }
  const dflt = defaultOf(r, mariadb)
  const onUpdate = /on update (current_timestamp(\(\d*\))?)/i.exec(extra)?.[1]
  const domain = domainOf(String(r.ctype))
  return {
    ...c,
    ...(dflt !== undefined && { default: dflt }),
    ...(/auto_increment/i.test(extra) && { identity: true }),
    ...(onUpdate && { onUpdate }),
    ...(domain && { domain }),
  }
}

/**
 * COLUMN_DEFAULT as SQL: MariaDB quotes literals and writes `NULL` for none; MySQL 8 gives a
 * literal's bare text, and marks expressions DEFAULT_GENERATED.
 */
function defaultOf(r: Row, mariadb: boolean): string | undefined {
  if (r.dflt === null || r.dflt === undefined) return undefined
  const text = String(r.dflt)
  if (mariadb) return /^null$/i.test(text) ? undefined : text
  if (/DEFAULT_GENERATED/i.test(String(r.extra)) || /^current_timestamp/i.test(text)) return text
  return /^(tinyint|smallint|mediumint|int|integer|bigint|decimal|numeric|float|double|real|bit|year)$/i.test(String(r.dtype)) ? text : `'${text.replaceAll("'", "''")}'`
}

/** ENUM('a','b'), SET('a','b') and YEAR. */
export function domainOf(columnType: string): ColumnDomain | undefined {
  if (/^year/i.test(columnType)) return { kind: 'year' }
  const m = /^(enum|set)\((.*)\)$/is.exec(columnType)
  if (!m) return undefined
  const values = [...m[2]!.matchAll(/'((?:[^']|'')*)'/g)].map((v) => v[1]!.replaceAll("''", "'"))
  return { kind: m[1]!.toLowerCase() as 'enum' | 'set', values }
}

function indexesOf(rows: Row[]): IndexInfo[] {
  const byName = new Map<string, Row[]>()
  for (const r of rows) byName.set(String(r.name), [...(byName.get(String(r.name)) ?? []), r])
  return [...byName].map(([name, parts]): IndexInfo => {
    const kind = String(parts[0]!.kind).toUpperCase()
    const columns = parts.map((p) => ({
      name: p.col === null ? '' : String(p.col),
      ...(p.dir === 'D' && { descending: true }),
      ...(p.part !== null && { length: Number(p.part) }),
    }))
    const unsupported = parts.some((p) => p.col === null) ? 'an index on an expression' : undefined
    return {
      name,
      columns,
      unique: Number(parts[0]!.nonunique) === 0,
      ...(kind === 'FULLTEXT' && { kind: 'fulltext' as const }),
      ...(kind === 'SPATIAL' && { kind: 'spatial' as const }),
      ...(unsupported && { unsupported }),
    }
  })
}

function foreignKeysOf(table: string, rows: Row[], skipped: SkippedObject[]): ForeignKeyInfo[] {
  const byName = new Map<string, Row[]>()
  for (const r of rows) byName.set(String(r.name), [...(byName.get(String(r.name)) ?? []), r])
  return [...byName].flatMap(([name, parts]): ForeignKeyInfo[] => {
    const first = parts[0]!
    if (Number(first.same) !== 1) {
      skipped.push({ kind: 'foreign key', name: `${table}.${name}`, reason: 'it references a table in another database' })
      return []
    }
    return [
      {
        name,
        columns: parts.map((p) => String(p.col)),
        table: String(first.ref),
        referencedColumns: parts.map((p) => String(p.refcol)),
        onDelete: String(first.del).toUpperCase() as ReferentialAction,
        onUpdate: String(first.upd).toUpperCase() as ReferentialAction,
      },
    ]
  })
}
