import { z } from 'zod'
import { type PipelineSettings, type ResolvedSettings, type StepFunction, resolveSettings } from './config.js'
import type { DatabaseOptions } from './database/plan.js'
import type { Pipeline } from './define.js'
import { ConfigError } from './errors.js'

/** A whole-database pipeline (`tables: 'all'`) before its tables are known: they are read from the source when it runs. */
export interface DatabaseSettings {
  readonly options: DatabaseOptions
  /** The settings every table shares, checked (with `*` for the table). */
  readonly template: ResolvedSettings
  /** The pipeline file's shared settings and the command line's overrides, to settle each table with. */
  readonly shared: Record<string, unknown>
  readonly overrides: Record<string, unknown>
  readonly tableSettings: Readonly<Record<string, Partial<PipelineSettings>>>
}

/** A pipeline ready to run: its tables in order, and its own before/after steps. */
export interface ResolvedPipeline {
  readonly name: string
  /** Empty for a whole database until its tables are read (`database`). */
  readonly tables: readonly ResolvedSettings[]
  readonly database?: DatabaseSettings
  readonly before?: StepFunction
  readonly after?: StepFunction
}

const databaseSchema = z.strictObject({
  include: z.array(z.string().min(1)).default([]),
  exclude: z.array(z.string().min(1)).default([]),
  identifierCase: z.enum(['keep', 'lower']).default('keep'),
  zeroDates: z.enum(['refuse', 'null']).default('refuse'),
  tinyint1: z.enum(['auto', 'boolean', 'integer']).default('auto'),
  spatial: z.enum(['refuse', 'text']).default('refuse'),
})
const databaseKeys = Object.keys(databaseSchema.shape)

/**
 * Validates a pipeline file's settings, with overrides (from the command line) applied to every
 * table, before any connection opens. `only` keeps the named tables (source or target names).
 */
export function resolvePipeline(
  name: string,
  pipeline: Pipeline | PipelineSettings,
  overrides: Partial<PipelineSettings> = {},
  only?: readonly string[],
): ResolvedPipeline {
  const settings = { ...('settings' in pipeline ? pipeline.settings : pipeline), ...overrides } as PipelineSettings & Record<string, unknown>
  const { tables, before, after, tableSettings, ...rest } = settings
  const dbInput = Object.fromEntries(databaseKeys.flatMap((k) => (rest[k] === undefined ? [] : [[k, rest[k]]])))
  const shared = Object.fromEntries(Object.entries(rest).filter(([k]) => !databaseKeys.includes(k)))
  const steps = { ...(before && { before }), ...(after && { after }) }
  if (tables === 'all') return { name, tables: [], database: database(name, dbInput, shared, overrides, tableSettings ?? {}, only), ...steps }
  const stray = [...Object.keys(dbInput), ...(tableSettings ? ['tableSettings'] : [])]
  if (stray.length) throw new ConfigError(`pipeline \`${name}\`: ${stray.map((k) => `\`${k}\``).join(', ')} need${stray.length === 1 ? 's' : ''} \`tables: 'all'\` (a whole database)`)
  if (tables === undefined) {
    const table = resolveSettings(name, shared)
    return { name, tables: pick(name, [table], only), ...steps }
  }
  if (!Array.isArray(tables) || tables.length === 0) {
    throw new ConfigError(`pipeline \`${name}\`: setting \`tables\` must list at least one table, or be 'all'`)
  }
  const resolved = tables.map((entry, i) => {
    const table = typeof entry === 'string' ? { sourceTable: entry } : entry
    return resolveSettings(
      name,
      { ...shared, ...table, ...overrides },
      { where: `tables[${i}] (${String(table?.sourceTable)})`, multiTable: true },
    )
  })
  return { name, tables: pick(name, resolved, only), ...steps }
}

function database(
  name: string,
  input: Record<string, unknown>,
  shared: Record<string, unknown>,
  overrides: Record<string, unknown>,
  tableSettings: Record<string, unknown>,
  only?: readonly string[],
): DatabaseSettings {
  const parsed = databaseSchema.safeParse(input)
  if (!parsed.success) {
    throw new ConfigError(`pipeline \`${name}\` has bad settings:\n${parsed.error.issues.map((i) => `  setting \`${i.path.join('.')}\`: ${i.message}`).join('\n')}`)
  }
  if (shared.sourceTable !== undefined || shared.targetTable !== undefined) {
    throw new ConfigError(`pipeline \`${name}\`: \`tables: 'all'\` reads the tables from the source; name a table's settings in \`tableSettings\`, not \`sourceTable\``)
  }
  const template = resolveSettings(name, { ...shared, sourceTable: '*' }, { multiTable: true })
  const options = { ...parsed.data, ...(only && { include: [...only] }) }
  return { options, template, shared: { ...shared, ...overrides }, overrides, tableSettings: tableSettings as DatabaseSettings['tableSettings'] }
}

function pick(name: string, tables: ResolvedSettings[], only?: readonly string[]): ResolvedSettings[] {
  if (!only) return tables
  const known = tables.flatMap((t) => [t.sourceTable, t.targetTable])
  const unknown = only.filter((o) => !known.includes(o))
  if (unknown.length) {
    throw new ConfigError(
      `--only: pipeline \`${name}\` has no table ${unknown.map((u) => `\`${u}\``).join(', ')}; its tables: ${[...new Set(tables.map((t) => t.sourceTable))].join(', ')}`,
    )
  }
  return tables.filter((t) => only.includes(t.sourceTable) || only.includes(t.targetTable))
}
