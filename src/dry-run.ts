import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ResolvedSettings } from './config.js'
import { describeEndpoint, openConnections } from './engines/registry.js'
import { ConfigError, messageOf } from './errors.js'
import { inspect, type Inspection } from './inspect.js'
import type { Logger } from './log.js'
import { decodedBecause, pathText } from './passthrough.js'
import { duration } from './progress.js'
import type { Report } from './report.js'
import type { ResolvedPipeline } from './resolve.js'
import type { Sink } from './sink.js'
import type { Source } from './source.js'
import { strategyFor } from './strategy.js'
import type { TableSchema } from './types.js'

/** What a run would do to one table, as `--dry-run` prints it. */
export interface TablePlan {
  readonly sourceTable: string
  readonly targetTable: string
  /** `(order_id, line) (primary key) → (order_id, line)` */
  readonly key: string
  readonly rows: number
  readonly strategy: string
  readonly chunks: number
  readonly workers: number
  readonly checkpointFile: string
  /** What happens to the target table first. */
  readonly targetAction: string
  /** What the target engine does with the names of a table ferry creates (Oracle keeps their case). */
  readonly names?: string
  /** Target column ← source type → target type. */
  readonly columns: readonly { name: string; sourceType: string; targetType: string }[]
  /** How rows travel: `raw passthrough (…)` or `decoded rows (why)`. */
  readonly path: string
  /** Sample rows the transform ran on; 0 without a transform. */
  readonly sampleRows: number
  readonly warnings: readonly string[]
}

/**
 * Connects, checks both sides of every table and returns the plan, writing nothing to either. A
 * table with a problem does not stop the others: every table's problem is said in one pass, then
 * the dry run fails with all of them.
 */
export async function dryRun(pipeline: ResolvedPipeline, logger: Logger): Promise<TablePlan[]> {
  const plans: TablePlan[] = []
  const problems: string[] = []
  for (const s of pipeline.tables) {
    try {
      const plan = await withConnections(s, (source, sink) => planTable(s, source, sink))
      logPlan(logger, plan)
      plans.push(plan)
    } catch (err) {
      const problem = `${s.sourceTable} → ${s.targetTable}: ${messageOf(err)}`
      logger.error(`plan for ${problem}`)
      problems.push(problem)
    }
  }
  logger.info('dry run: nothing was written')
  if (problems.length) {
    throw new ConfigError(`dry run: ${problems.length} of ${pipeline.tables.length} table(s) cannot run:\n  ${problems.join('\n  ')}`)
  }
  return plans
}

export async function planTable(s: ResolvedSettings, source: Source, sink: Sink): Promise<TablePlan> {
  const seen = await inspect(s, source, sink)
  const ranges = await strategyFor(s.strategy).plan(source, { table: s.sourceTable, key: seen.keys.source, filter: s.where }, s)
  const warnings: string[] = []
  if (seen.keys.origin === 'asserted') warnings.push(`key ${keyList(seen.keys.source)} is asserted unique, not declared: it is checked while reading`)
  if (seen.sample.length > 0 && seen.sample.every((p) => p.target == null)) warnings.push('the transform drops every sampled row')
  const existing = new Map((s.writeMode === 'recreate' ? [] : (seen.existingTarget?.columns ?? [])).map((c) => [c.name, c]))
  const creates = !s.resume && (s.writeMode === 'recreate' || seen.existingTarget === undefined)
  const names = creates ? sink.nameNote?.(s.targetTable, seen.inferred.columns.map((c) => c.name)) : undefined
  return {
    sourceTable: s.sourceTable,
    targetTable: s.targetTable,
    key: `${keyList(seen.keys.source)} (${seen.keys.origin}) → ${keyList(seen.keys.target)}`,
    rows: seen.total,
    strategy: s.strategy,
    chunks: ranges.length,
    workers: Math.min(strategyFor(s.strategy).concurrency(s), ranges.length),
    checkpointFile: s.checkpointFile,
    targetAction: targetAction(s, seen.existingTarget !== undefined),
    ...(names && { names }),
    columns: seen.inferred.columns.map((c) => ({
      name: c.name,
      sourceType: c.nativeType,
      targetType: existing.get(c.name)?.nativeType ?? sink.nativeType?.(c) ?? c.type,
    })),
    path: pathText(source, decodedBecause(s, seen.keys, source, sink, seen.source, plannedTarget(s, seen, sink))),
    sampleRows: s.transform ? seen.sample.length : 0,
    warnings,
  }
}

/** The target as the run would write it: the existing table, or the one it would create, typed as the sink creates it. */
function plannedTarget(s: ResolvedSettings, seen: Inspection, sink: Sink): TableSchema {
  if (seen.existingTarget && s.writeMode !== 'recreate') return seen.existingTarget
  return { ...seen.inferred, columns: seen.inferred.columns.map((c) => ({ ...c, nativeType: sink.nativeType?.(c) ?? c.nativeType })) }
}

const keyList = (names: readonly string[]) => (names.length === 1 ? names[0]! : `(${names.join(', ')})`)

function targetAction(s: ResolvedSettings, exists: boolean): string {
  if (s.resume) return 'resume from the checkpoint if there is one'
  if (!exists) return 'create'
  return { upsert: 'upsert into the existing table', insert: 'insert into the existing table', truncate: 'truncate, then insert', recreate: 'drop and create, then insert' }[s.writeMode]
}

export function logPlan(logger: Logger, p: TablePlan, schema: readonly string[] = []): void {
  const width = Math.max(...p.columns.map((c) => c.name.length))
  logger.info(
    [
      `plan for ${p.sourceTable} → ${p.targetTable}:`,
      `rows: ${p.rows}`,
      `key: ${p.key}`,
      `strategy: ${p.strategy}, ${p.chunks} chunk(s), ${p.workers ? `${p.workers} worker(s)` : 'worked by `ferry worker` processes'}`,
      `target: ${p.targetAction}`,
      ...(p.names ? [`names: ${p.names}`] : []),
      `checkpoint: ${p.checkpointFile}`,
      `path: ${p.path}`,
      `transform: ${p.sampleRows ? `ran on ${p.sampleRows} sample row(s)` : 'none'}`,
      'columns:',
      ...p.columns.map((c) => `  ${c.name.padEnd(width)}  ${c.sourceType} → ${c.targetType}`),
      ...schema,
      ...p.warnings.map((w) => `warning: ${w}`),
    ].join('\n  '),
  )
}

/** `--check`: both connections open, tables there, rows to move and the time at the last measured rate. */
export async function check(pipeline: ResolvedPipeline, logger: Logger): Promise<void> {
  const rate = await lastRate(pipeline)
  for (const s of pipeline.tables) {
    await withConnections(s, async (source, sink) => {
      await source.describe(s.sourceTable)
      const rows = await source.count(s.sourceTable, s.where)
      const target = await sink.describe(s.targetTable)
      const estimate = rate ? `about ${duration(rows / rate.rowsPerSecond)} at ${rate.rowsPerSecond} rows/s (${rate.when})` : 'no earlier run to estimate from'
      logger.info(
        `ok: ${describeEndpoint(s.source)} \`${s.sourceTable}\` has ${rows} rows; ${describeEndpoint(s.target)} \`${s.targetTable}\` ${target ? `exists (${target.columns.length} columns)` : 'will be created'}; ${estimate}`,
      )
    })
  }
}

async function lastRate(pipeline: ResolvedPipeline): Promise<{ rowsPerSecond: number; when: string } | undefined> {
  const dir = pipeline.tables[0]!.reportDir
  const names = (await readdir(dir).catch(() => [] as string[]))
    .filter((n) => n.startsWith(`${pipeline.name}-`) && n.endsWith('.json'))
    .sort()
    .reverse()
  for (const name of names) {
    try {
      const report = JSON.parse(await readFile(join(dir, name), 'utf8')) as Report
      if (report.summary.status === 'SUCCESS' && report.statistics.averageRate > 0) {
        return { rowsPerSecond: report.statistics.averageRate, when: `last run ${report.statistics.startTime}` }
      }
    } catch {
      // A report from another version or half written: look further back.
    }
  }
  return undefined
}

/** Both sides in sessions that cannot write (sources always are): nothing a dry run or check runs can change them. */
async function withConnections<T>(s: ResolvedSettings, use: (source: Source, sink: Sink) => Promise<T>): Promise<T> {
  const { source, sink } = await openConnections(s, { readOnly: true })
  try {
    return await use(source, sink)
  } finally {
    await Promise.allSettled([source.close(), sink.close()])
  }
}
