import { type ResolvedSettings, resolveSettings, type RowTransform } from '../config.js'
import { geometryText } from '../geometry.js'
import type { Row } from '../types.js'
import type { DatabaseSettings } from '../resolve.js'
import type { ColumnFix, PlannedTable } from './plan.js'

/**
 * One table's settings in a whole-database copy: the pipeline's shared settings, the table's own
 * (`tableSettings`), the command line's; the source table's key (renamed as the target names it);
 * the planned target schema; and, where names are folded or values fixed, the transform that does it.
 */
export function tableSettings(name: string, db: DatabaseSettings, planned: PlannedTable, sqliteTarget: boolean): ResolvedSettings {
  const source = planned.source
  const own = db.tableSettings[source.table] ?? {}
  const user = (own.transform ?? db.shared.transform) as RowTransform | undefined
  const key = (own.primaryKey === undefined ? undefined : [own.primaryKey].flat()) ?? defaultKey(planned)
  const rename = (n: string) => planned.renames.get(n) ?? n
  const fix = rowFix(planned)
  const transform: RowTransform | undefined = !fix ? user : user ? async (row) => {
    const out = await user(row)
    return out ? fix(out) : out
  } : fix
  const resolved = resolveSettings(
    name,
    {
      ...db.shared,
      ...own,
      ...db.overrides,
      sourceTable: source.table,
      targetTable: planned.target.table,
      ...(key && { primaryKey: key }),
      ...(key && !own.targetKey && { targetKey: key.map(rename) }),
      ...(transform && { transform }),
    },
    { where: `table \`${source.table}\``, multiTable: true },
  )
  return Object.freeze({
    ...resolved,
    // A transform of the user's makes its own rows: their columns are inferred from them, as in any pipeline.
    ...(!user && { targetSchema: planned.target }),
    ...(sqliteTarget && { foreignKeyChecks: false }),
  })
}

function defaultKey(planned: PlannedTable): string[] | undefined {
  const s = planned.source
  if (s.primaryKey.length) return [...s.primaryKey]
  const notNull = (key: readonly string[]) => key.every((n) => s.columns.find((c) => c.name === n)?.nullable === false)
  const unique = s.uniqueKeys.find(notNull)
  return unique ? [...unique] : undefined
}

// MySQL's zero dates: the year, the month or the day 0.
const zeroDate = /^(0000-\d\d-\d\d|\d{4}-00-\d\d|\d{4}-\d\d-00)/

const fixes: Record<ColumnFix['kind'], (v: unknown) => unknown> = {
  'zero-date': (v) => (typeof v === 'string' && zeroDate.test(v) ? null : v),
  tinyint: (v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v),
  'geometry-text': (v) => (v instanceof Uint8Array ? geometryText(v) : v),
}

/** The renames and value fixes of a planned table as one transform; undefined when there are none. */
function rowFix(planned: PlannedTable): ((row: Row) => Row) | undefined {
  const renames = [...planned.renames]
  const steps = planned.fixes.map((f) => [f.column, fixes[f.kind]] as const)
  if (renames.length === 0 && steps.length === 0) return undefined
  return (row) => {
    for (const [from, to] of renames) {
      if (!(from in row)) continue
      row[to] = row[from]
      delete row[from]
    }
    for (const [column, fix] of steps) if (column in row) row[column] = fix(row[column])
    return row
  }
}
