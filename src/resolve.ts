import { type PipelineSettings, type ResolvedSettings, type StepFunction, resolveSettings } from './config.js'
import type { Pipeline } from './define.js'
import { ConfigError } from './errors.js'

/** A pipeline ready to run: its tables in order, and its own before/after steps. */
export interface ResolvedPipeline {
  readonly name: string
  readonly tables: readonly ResolvedSettings[]
  readonly before?: StepFunction
  readonly after?: StepFunction
}

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
  const { tables, before, after, ...shared } = ('settings' in pipeline ? pipeline.settings : pipeline) as PipelineSettings
  if (tables === undefined) {
    const table = resolveSettings(name, { ...shared, ...overrides })
    return { name, tables: pick(name, [table], only), ...(before && { before }), ...(after && { after }) }
  }
  if (!Array.isArray(tables) || tables.length === 0) {
    throw new ConfigError(`pipeline \`${name}\`: setting \`tables\` must list at least one table`)
  }
  const resolved = tables.map((entry, i) => {
    const table = typeof entry === 'string' ? { sourceTable: entry } : entry
    return resolveSettings(
      name,
      { ...shared, ...table, ...overrides },
      { where: `tables[${i}] (${String(table?.sourceTable)})`, multiTable: true },
    )
  })
  return { name, tables: pick(name, resolved, only), ...(before && { before }), ...(after && { after }) }
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
