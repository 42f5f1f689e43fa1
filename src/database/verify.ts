import type { Catalog } from '../catalog.js'
import { sameSet } from '../keys.js'
import { canonicalExpression, type SqlEngine } from '../schema/sql-expression.js'
import type { TableSchema } from '../types.js'
import { hasForeignKey, hasIndex } from './build.js'
import type { PlannedTable } from './plan.js'

/**
 * What the target lacks of the plan, one line per object: tables, primary keys, indexes and
 * foreign keys of every copied table; defaults, identity columns and checks of the tables the copy
 * created (a table that was there is loaded, not redefined). Empty when the target holds it all.
 */
export function schemaProblems(planned: readonly PlannedTable[], target: Catalog, created: (table: string) => boolean): string[] {
  const tables = new Map(target.tables.map((t) => [t.table, t]))
  const problems: string[] = []
  for (const { target: want } of planned) {
    const have = tables.get(want.table)
    if (!have) {
      problems.push(`table \`${want.table}\` is missing`)
      continue
    }
    if (!sameSet(have.primaryKey, want.primaryKey)) problems.push(`\`${want.table}\` has primary key (${have.primaryKey.join(', ')}), not (${want.primaryKey.join(', ')})`)
    for (const index of want.indexes ?? []) if (!hasIndex(have, index)) problems.push(`index \`${index.name}\` of \`${want.table}\` is missing`)
    for (const fk of want.foreignKeys ?? []) if (!hasForeignKey(have, fk)) problems.push(`foreign key \`${fk.name}\` of \`${want.table}\` is missing`)
    if (created(want.table)) problems.push(...columnProblems(want, have, target.engine))
  }
  return problems
}

function columnProblems(want: TableSchema, have: TableSchema, engine: SqlEngine): string[] {
  const problems: string[] = []
  for (const c of want.columns) {
    const h = have.columns.find((k) => k.name === c.name)
    if (!h) {
      problems.push(`column \`${want.table}.${c.name}\` is missing`)
      continue
    }
    if (c.identity && !h.identity) problems.push(`\`${want.table}.${c.name}\` is not an identity column`)
    const options = { boolean: c.type === 'boolean' }
    const a = c.default === undefined ? undefined : canonicalExpression(engine, c.default, options)
    const b = h.default === undefined ? undefined : canonicalExpression(engine, h.default, options)
    if (a !== b) problems.push(`\`${want.table}.${c.name}\` has default ${b ?? 'none'}, not ${a ?? 'none'}`)
  }
  const checks = (want.checks ?? []).length
  if ((have.checks ?? []).length < checks) problems.push(`\`${want.table}\` has ${(have.checks ?? []).length} CHECK constraint(s), not ${checks}`)
  return problems
}
