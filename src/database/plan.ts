import type { Catalog, SkippedObject } from '../catalog.js'
import { ConfigError } from '../errors.js'
import { translate, type SqlEngine } from '../schema/sql-expression.js'
import type { CheckInfo, ColumnInfo, TableSchema } from '../types.js'
import { domainChecks, plannedForeignKeys, plannedIndexes, uniqueName } from './plan-objects.js'
import { foreignKeyOrder, matches } from './order.js'

/** The whole-database settings of a pipeline (`tables: 'all'`), with their defaults. */
export interface DatabaseOptions {
  /** Glob patterns of the source tables to copy (default: all). */
  readonly include: readonly string[]
  readonly exclude: readonly string[]
  /** `lower` folds table, column, index and constraint names to lower case (as pgloader does). */
  readonly identifierCase: 'keep' | 'lower'
  /** MySQL zero dates (`0000-00-00`, a month or day 00): `refuse` (a refused row) or `null`. */
  readonly zeroDates: 'refuse' | 'null'
  /** MySQL tinyint(1): `auto` (boolean where every value is 0 or 1, else a small integer), `boolean`, `integer`. */
  readonly tinyint1: 'auto' | 'boolean' | 'integer'
  /** Geometry columns on a target without geometry types: `refuse`, or `text` (EWKT, SRID kept). */
  readonly spatial: 'refuse' | 'text'
}

/** A conversion of one column's values on the way: what the rows need that the target types do not do. */
export interface ColumnFix {
  /** The target column. */
  readonly column: string
  readonly kind: 'zero-date' | 'tinyint' | 'geometry-text'
}

/** One table of a whole-database copy as it will be on the target. */
export interface PlannedTable {
  readonly source: TableSchema
  /** The table to create: columns (with defaults, identity, domains), primary key, checks, and the indexes and foreign keys built after the data. */
  readonly target: TableSchema
  /** Source column → target column, where the names differ. */
  readonly renames: ReadonlyMap<string, string>
  readonly fixes: readonly ColumnFix[]
}

export interface DatabasePlan {
  /** In load order: referenced tables first. */
  readonly tables: readonly PlannedTable[]
  readonly skipped: readonly SkippedObject[]
  /** What is carried otherwise than it was (a type narrowed, an index prefix dropped). */
  readonly warnings: readonly string[]
}

/** How many rows of a column break a rule: `count(table, "condition")`. */
export type RowCount = (table: string, condition: string) => Promise<number>

const quote = (engine: SqlEngine, name: string) => (engine === 'mysql' ? `\`${name.replaceAll('`', '``')}\`` : `"${name.replaceAll('"', '""')}"`)

/**
 * The target schema of a whole-database copy from the source's catalog: which tables, in which
 * order, each column's declaration translated (or reported), and the indexes and foreign keys to
 * build after the data.
 */
export async function planDatabase(source: Catalog, target: SqlEngine, options: DatabaseOptions, count: RowCount): Promise<DatabasePlan> {
  const skipped: SkippedObject[] = [...source.skipped]
  const warnings: string[] = []
  const chosen = source.tables.filter(
    (t) => (options.include.length === 0 || matches(t.table, options.include)) && !matches(t.table, options.exclude),
  )
  if (chosen.length === 0) throw new ConfigError(`no source table matches \`include\` ${JSON.stringify(options.include)} and \`exclude\` ${JSON.stringify(options.exclude)}; the source has ${source.tables.map((t) => t.table).join(', ') || 'no table'}`)
  const fold = options.identifierCase === 'lower' ? (n: string) => n.toLowerCase() : (n: string) => n
  checkFolding(chosen, fold)
  const names = new Set(chosen.map((t) => t.table))
  const globalNames = new Set(chosen.map((t) => fold(t.table)))
  const planned: PlannedTable[] = []
  for (const table of foreignKeyOrder(chosen)) {
    const renames = new Map(table.columns.filter((c) => fold(c.name) !== c.name).map((c) => [c.name, fold(c.name)]))
    const rename = (n: string) => renames.get(n) ?? n
    const fixes: ColumnFix[] = []
    const targetName = fold(table.table)
    const columns: ColumnInfo[] = []
    for (const c of table.columns) columns.push(await column(source.engine, target, table, c, { options, rename, fixes, warnings, skipped, count }))
    const primaryKey = table.primaryKey.map(rename)
    const identityOk = (c: ColumnInfo) => c.identity && (target !== 'sqlite' || (primaryKey.length === 1 && primaryKey[0] === c.name))
    for (const c of columns.filter((c) => c.identity && !identityOk(c))) {
      warnings.push(`\`${targetName}.${c.name}\`: SQLite assigns only a single INTEGER PRIMARY KEY; the column is copied without identity`)
    }
    const local = new Set<string>()
    const checks: CheckInfo[] = [
      ...table.checks!.flatMap((k) => check(source.engine, target, targetName, k, rename, skipped)),
      ...domainChecks(target, targetName, columns),
    ].map((k) => ({ ...k, name: uniqueName(fold(k.name), local, targetName, target) }))
    const schema: TableSchema = {
      table: targetName,
      columns: columns.map((c) => (c.identity && !identityOk(c) ? { ...c, identity: false } : c)),
      primaryKey,
      uniqueKeys: table.uniqueKeys.map((u) => u.map(rename)),
      checks,
      indexes: plannedIndexes(table, target, targetName, columns, { fold, rename, globalNames, skipped, warnings }),
      foreignKeys: plannedForeignKeys(table, targetName, names, { fold, rename, globalNames, local, target, skipped }),
    }
    planned.push({ source: table, target: schema, renames, fixes })
  }
  return { tables: widenForeignKeys(planned), skipped, warnings }
}

/**
 * Integer columns a foreign key joins get one type, the wider: MySQL refuses a key from INT to
 * BIGINT ("incorrect options"), and SQLite reads `INT` and `INTEGER` as two widths.
 */
function widenForeignKeys(tables: PlannedTable[]): PlannedTable[] {
  const wide = new Set<string>()
  const at = (table: string, column: string) => `${table}\0${column}`
  const find = (table: string, column: string) => tables.find((t) => t.target.table === table)?.target.columns.find((c) => c.name === column)
  for (let changed = true; changed; ) {
    changed = false
    for (const t of tables) {
      for (const fk of t.target.foreignKeys ?? []) {
        fk.columns.forEach((name, i) => {
          const pair = [find(t.target.table, name), find(fk.table, fk.referencedColumns[i]!)]
          const keys = [at(t.target.table, name), at(fk.table, fk.referencedColumns[i]!)]
          if (!pair.every((c) => c?.type === 'integer' || c?.type === 'bigint')) return
          if (pair.some((c, j) => c!.type === 'bigint' || wide.has(keys[j]!)) && keys.some((k) => !wide.has(k))) {
            keys.forEach((k) => wide.add(k))
            changed = true
          }
        })
      }
    }
  }
  return tables.map((t) => ({
    ...t,
    target: { ...t.target, columns: t.target.columns.map((c) => (wide.has(at(t.target.table, c.name)) ? { ...c, type: 'bigint' as const } : c)) },
  }))
}

function checkFolding(tables: readonly TableSchema[], fold: (n: string) => string): void {
  const clash = (names: string[], where: string) => {
    const seen = new Map<string, string>()
    for (const n of names) {
      const other = seen.get(fold(n))
      if (other !== undefined) throw new ConfigError(`identifierCase 'lower': ${where} \`${other}\` and \`${n}\` would both be \`${fold(n)}\`; keep their case (identifierCase: 'keep') or exclude one`)
      seen.set(fold(n), n)
    }
  }
  clash(tables.map((t) => t.table), 'tables')
  for (const t of tables) clash(t.columns.map((c) => c.name), `columns of \`${t.table}\``)
}

interface ColumnContext {
  readonly options: DatabaseOptions
  readonly rename: (name: string) => string
  readonly fixes: ColumnFix[]
  readonly warnings: string[]
  readonly skipped: SkippedObject[]
  readonly count: RowCount
}

/** One column as the target declares it, its values' fixes recorded. */
async function column(from: SqlEngine, to: SqlEngine, table: TableSchema, c: ColumnInfo, ctx: ColumnContext): Promise<ColumnInfo> {
  const name = ctx.rename(c.name)
  const where = `\`${table.table}.${c.name}\``
  let out: ColumnInfo = { ...c, name }
  if (from === 'mysql' && c.type === 'boolean' && /^tinyint\(1\)/i.test(c.nativeType) && ctx.options.tinyint1 !== 'boolean') {
    const others = ctx.options.tinyint1 === 'integer' ? 1 : await ctx.count(table.table, `${quote('mysql', c.name)} NOT IN (0, 1)`)
    if (others > 0) {
      out = { ...out, type: 'integer', ...(c.default !== undefined && { default: c.default }) }
      ctx.fixes.push({ column: name, kind: 'tinyint' })
      if (ctx.options.tinyint1 === 'auto') ctx.warnings.push(`${where} is tinyint(1) but ${others} row(s) hold a value other than 0 and 1: copied as a small integer, not a boolean`)
    }
  }
  const dated = c.type === 'date' || c.type === 'timestamp' || c.type === 'timestamptz'
  const zeroDefault = c.default !== undefined && /^'?0000-00-00/.test(c.default)
  if (from === 'mysql' && dated && ctx.options.zeroDates === 'null') {
    ctx.fixes.push({ column: name, kind: 'zero-date' })
    if (zeroDefault) {
      out = { ...out, nullable: true, default: undefined }
      ctx.warnings.push(`${where}: its zero-date default is dropped and it takes NULL (zeroDates: 'null')`)
    }
  }
  if (c.type === 'geometry' && to !== 'mysql') {
    if (ctx.options.spatial === 'refuse') {
      throw new ConfigError(`${where} is a geometry (${c.geometry?.kind ?? 'GEOMETRY'}), which the ${to} target has no type for; copy it as EWKT text with \`spatial: 'text'\` (--spatial text), or leave the table out with \`exclude\``)
    }
    out = { ...out, type: 'text', nativeType: 'text', geometry: undefined }
    ctx.fixes.push({ column: name, kind: 'geometry-text' })
    ctx.warnings.push(`${where} (${c.geometry?.kind ?? 'GEOMETRY'}${c.geometry?.srid ? `, SRID ${c.geometry.srid}` : ''}) is copied as EWKT text (spatial: 'text')`)
  }
  if (out.identity && out.type !== 'integer' && out.type !== 'bigint') {
    ctx.warnings.push(`${where} is auto-assigned but ${out.type}: copied without identity`)
    out = { ...out, identity: false }
  }
  if (out.onUpdate !== undefined && to !== 'mysql') {
    ctx.skipped.push({ kind: 'on update', name: `${table.table}.${c.name}`, reason: `\`ON UPDATE ${out.onUpdate}\` is MySQL's alone (${to} would need a trigger); the column keeps its default` })
    out = { ...out, onUpdate: undefined }
  } else if (out.onUpdate !== undefined) {
    out = { ...out, onUpdate: /timestamp/.test(out.type) ? 'CURRENT_TIMESTAMP(6)' : out.onUpdate }
  }
  return { ...out, default: out.identity ? undefined : defaultOf(from, to, table.table, out, ctx) }
}

/** The default in the target's SQL, or undefined with the reason recorded. */
function defaultOf(from: SqlEngine, to: SqlEngine, table: string, c: ColumnInfo, ctx: ColumnContext): string | undefined {
  if (c.default === undefined) return undefined
  // A sequence that no column owns is not copied: a default drawing from it cannot be either.
  if (/nextval\s*\(/i.test(c.default)) {
    ctx.skipped.push({ kind: 'default', name: `${table}.${c.name}`, reason: `\`${c.default}\` draws from a sequence that is not copied` })
    return undefined
  }
  const timestampScale = to === 'mysql' && /timestamp/.test(c.type) ? 6 : undefined
  const done = translate(from, to, c.default, { boolean: c.type === 'boolean', ...(timestampScale && { timestampScale }) })
  if ('sql' in done) return done.sql
  ctx.skipped.push({ kind: 'default', name: `${table}.${c.name}`, reason: `\`${c.default}\`: ${done.reason}` })
  return undefined
}

function check(from: SqlEngine, to: SqlEngine, table: string, k: CheckInfo, rename: (n: string) => string, skipped: SkippedObject[]): CheckInfo[] {
  const done = translate(from, to, k.sql, { rename })
  if ('sql' in done) return [{ name: k.name, sql: done.sql }]
  skipped.push({ kind: 'check', name: `${table}.${k.name}`, reason: `\`${k.sql}\`: ${done.reason}` })
  return []
}
