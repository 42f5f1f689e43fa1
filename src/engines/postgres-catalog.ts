import type { Catalog, SkippedObject } from '../catalog.js'
import type { ColumnInfo, ForeignKeyInfo, IndexInfo, ReferentialAction, Row, TableSchema } from '../types.js'

type Query = (sql: string, params: readonly unknown[]) => Promise<Row[]>

// Everything is read from the current schema (the first of the search path), as `describe` does.
const tablesSql = `SELECT c.relname AS name, c.relkind AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition ORDER BY c.relname`

const columnsSql = `SELECT c.relname AS tbl, a.attname AS name, pg_get_expr(d.adbin, d.adrelid) AS dflt, a.attidentity AS ident,
  a.attgenerated AS gen, t.typtype AS typtype,
  (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) AS labels,
  EXISTS (SELECT FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S'
          WHERE dep.refobjid = c.oid AND dep.refobjsubid = a.attnum AND dep.deptype IN ('a', 'i')) AS owns_sequence
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') ORDER BY c.relname, a.attnum`

const indexesSql = `SELECT c.relname AS tbl, ic.relname AS name, i.indisunique AS uniq, am.amname AS method,
  i.indexprs IS NOT NULL AS expr, i.indpred IS NOT NULL AS partial,
  (SELECT json_agg(json_build_object('name', a.attname, 'desc', (i.indoption[k.ord - 1] & 1) = 1) ORDER BY k.ord)
     FROM unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) WITH ORDINALITY k(attnum, ord)
     LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum) AS columns
FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
WHERE n.nspname = current_schema() AND NOT i.indisprimary ORDER BY c.relname, ic.relname`

const constraintsSql = `SELECT c.relname AS tbl, k.conname AS name, k.contype AS type, pg_get_constraintdef(k.oid) AS def,
  r.relname AS ref, rn.nspname = current_schema() AS same_schema, k.confupdtype AS upd, k.confdeltype AS del,
  (SELECT json_agg(a.attname ORDER BY u.ord) FROM unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum) AS columns,
  (SELECT json_agg(a.attname ORDER BY u.ord) FROM unnest(k.confkey) WITH ORDINALITY u(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum) AS refcolumns
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_class r ON r.oid = k.confrelid LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
WHERE n.nspname = current_schema() AND k.contype IN ('f', 'c', 'x') ORDER BY c.relname, k.conname`

const othersSql = `SELECT 'trigger' AS kind, c.relname || '.' || t.tgname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() AND NOT t.tgisinternal
UNION ALL SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, p.proname FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()
UNION ALL SELECT 'sequence', s.relname FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
  WHERE n.nspname = current_schema() AND s.relkind = 'S'
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = s.oid AND d.deptype IN ('a', 'i'))
ORDER BY 1, 2`

const actions: Record<string, ReferentialAction> = { a: 'NO ACTION', r: 'RESTRICT', c: 'CASCADE', n: 'SET NULL', d: 'SET DEFAULT' }

/** The current schema's tables with their full schema; `describe` gives each table's columns and keys. */
export async function postgresCatalog(query: Query, describe: (table: string) => Promise<TableSchema | undefined>): Promise<Catalog> {
  const skipped: SkippedObject[] = []
  const names: string[] = []
  for (const r of await query(tablesSql, [])) {
    const name = String(r.name)
    if (r.kind === 'v' || r.kind === 'm') skipped.push({ kind: r.kind === 'v' ? 'view' : 'materialized view', name, reason: 'views are not copied; create it on the target from its definition' })
    else if (r.kind === 'f') skipped.push({ kind: 'foreign table', name, reason: 'a foreign table is not copied' })
    else names.push(name)
  }
  for (const r of await query(othersSql, [])) {
    const kind = String(r.kind)
    skipped.push({ kind, name: String(r.name), reason: kind === 'sequence' ? 'a sequence no column owns is not copied' : `${kind}s are not copied` })
  }
  const columns = group(await query(columnsSql, []))
  const indexes = group(await query(indexesSql, []))
  const constraints = group(await query(constraintsSql, []))
  const tables: TableSchema[] = []
  for (const name of names) {
    const base = await describe(name)
    if (!base) continue
    tables.push({
      ...base,
      columns: base.columns.map((c) => column(name, c, columns.get(name)?.find((r) => r.name === c.name), skipped)),
      indexes: (indexes.get(name) ?? []).map(index),
      foreignKeys: (constraints.get(name) ?? []).filter((k) => k.type === 'f').flatMap((k) => foreignKey(name, k, skipped)),
      checks: (constraints.get(name) ?? []).filter((k) => k.type === 'c').map((k) => ({ name: String(k.name), sql: checkCondition(String(k.def)) })),
    })
    for (const k of (constraints.get(name) ?? []).filter((k) => k.type === 'x')) {
      skipped.push({ kind: 'exclusion constraint', name: `${name}.${String(k.name)}`, reason: 'only PostgreSQL has exclusion constraints; not copied' })
    }
  }
  return { engine: 'postgres', tables, skipped }
}

function group(rows: Row[]): Map<string, Row[]> {
  const map = new Map<string, Row[]>()
  for (const r of rows) map.set(String(r.tbl), [...(map.get(String(r.tbl)) ?? []), r])
  return map
}

function column(table: string, c: ColumnInfo, r: Row | undefined, skipped: SkippedObject[]): ColumnInfo {
  if (!r) return c
  if (r.gen === 's') skipped.push({ kind: 'generated column', name: `${table}.${c.name}`, reason: 'its values are copied, its expression is not' })
  const dflt = r.dflt === null || r.gen === 's' ? undefined : String(r.dflt)
  // serial: a default of nextval() on a sequence the column owns.
  const serial = r.owns_sequence === true && dflt !== undefined && /^nextval\(/i.test(dflt)
  const identity = r.ident === 'a' || r.ident === 'd' || serial
  const labels = r.typtype === 'e' && Array.isArray(r.labels) ? (r.labels as string[]) : undefined
  return {
    ...c,
    ...(dflt !== undefined && !serial && { default: dflt }),
    ...(identity && { identity: true }),
    ...(labels && { domain: { kind: 'enum' as const, values: labels } }),
  }
}

function index(r: Row): IndexInfo {
  const columns = ((r.columns ?? []) as { name: string | null; desc: boolean }[]).map((c) => ({ name: c.name ?? '', ...(c.desc && { descending: true }) }))
  const unsupported = r.expr ? 'an index on an expression' : r.partial ? 'a partial index (WHERE …)' : r.method !== 'btree' ? `a ${String(r.method)} index` : undefined
  return { name: String(r.name), columns, unique: r.uniq === true, ...(unsupported && { unsupported }) }
}

function foreignKey(table: string, k: Row, skipped: SkippedObject[]): ForeignKeyInfo[] {
  if (k.same_schema !== true) {
    skipped.push({ kind: 'foreign key', name: `${table}.${String(k.name)}`, reason: 'it references a table in another schema' })
    return []
  }
  return [
    {
      name: String(k.name),
      columns: k.columns as string[],
      table: String(k.ref),
      referencedColumns: k.refcolumns as string[],
      onDelete: actions[String(k.del)] ?? 'NO ACTION',
      onUpdate: actions[String(k.upd)] ?? 'NO ACTION',
    },
  ]
}

/** `CHECK ((qty > 0)) NOT VALID` → `(qty > 0)` */
function checkCondition(def: string): string {
  return def.replace(/^CHECK\s*/i, '').replace(/\s+NOT VALID$/i, '').replace(/\s+NO INHERIT$/i, '')
}
