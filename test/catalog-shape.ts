import type { Catalog } from '../src/catalog.js'
import { openSource } from '../src/engines/registry.js'
import { canonicalExpression } from '../src/schema/sql-expression.js'
import type { TableSchema } from '../src/types.js'

/** What a whole-database copy must carry of one table, in a form that compares across engines. */
export interface TableShape {
  readonly primaryKey: string
  readonly indexes: string[]
  readonly foreignKeys: string[]
  readonly defaults: Record<string, string>
  readonly identity: string[]
  /** Columns restricted to a list of values: an ENUM, a PostgreSQL enum, or a CHECK (c IN (…)). */
  readonly allowed: Record<string, string>
  /** The other CHECKs, canonical. */
  readonly checks: string[]
}

export async function catalogOf(url: string): Promise<Catalog> {
  const source = await openSource(url)
  try {
    return await source.catalog!()
  } finally {
    await source.close()
  }
}

const action = (a: string) => (a === 'RESTRICT' ? 'NO ACTION' : a)

export function shapeOf(catalog: Catalog): Record<string, TableShape> {
  return Object.fromEntries(catalog.tables.map((t) => [t.table, tableShape(catalog.engine, t)]))
}

function tableShape(engine: Catalog['engine'], t: TableSchema): TableShape {
  const allowed: Record<string, string> = {}
  const checks: string[] = []
  for (const k of t.checks ?? []) {
    const text = canonicalExpression(engine, k.sql)
    const m = /^"(\w+)" IN ('.*')$/.exec(text)
    if (m) allowed[m[1]!] = m[2]!
    else if (!/BETWEEN 1901 AND 2155|REPLACE/.test(text)) checks.push(text)
  }
  for (const c of t.columns) if (c.domain?.kind === 'enum') allowed[c.name] = c.domain.values.map((v) => `'${v}'`).join(', ')
  return {
    primaryKey: t.primaryKey.join(', '),
    indexes: (t.indexes ?? []).map((i) => `${i.unique ? 'unique ' : ''}(${i.columns.map((c) => `${c.name}${c.descending ? ' desc' : ''}`).join(', ')})`).sort(),
    foreignKeys: (t.foreignKeys ?? []).map((f) => `(${f.columns.join(', ')}) → ${f.table} (${f.referencedColumns.join(', ')}) delete ${action(f.onDelete)} update ${action(f.onUpdate)}`).sort(),
    defaults: Object.fromEntries(t.columns.filter((c) => c.default !== undefined).map((c) => [c.name, canonicalExpression(engine, c.default!, { boolean: c.type === 'boolean' })])),
    identity: t.columns.filter((c) => c.identity).map((c) => c.name),
    allowed,
    checks: checks.sort(),
  }
}

/**
 * The target's shape, compared with the source's: MySQL indexes every foreign key itself, so an
 * index of a MySQL target that matches a foreign key's columns and is not the source's is left out.
 */
export function comparableTarget(source: Record<string, TableShape>, target: Record<string, TableShape>, mysqlTarget: boolean): Record<string, TableShape> {
  return Object.fromEntries(
    Object.entries(target).map(([name, t]) => {
      const fkColumns = t.foreignKeys.map((f) => f.slice(0, f.indexOf(')') + 1))
      const indexes = t.indexes.filter((i) => (source[name]?.indexes ?? []).includes(i) || !(mysqlTarget && fkColumns.includes(i)))
      return [name, { ...t, indexes }]
    }),
  )
}
