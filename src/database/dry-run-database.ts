import type { ResolvedSettings } from '../config.js'
import { logPlan, planTable, type TablePlan } from '../dry-run.js'
import { describeEndpoint, engineOf, openSink, openSource } from '../engines/registry.js'
import { ConfigError, ConnectionError, messageOf } from '../errors.js'
import type { Logger } from '../log.js'
import type { ResolvedPipeline } from '../resolve.js'
import type { Sink } from '../sink.js'
import type { ColumnInfo } from '../types.js'
import type { PlannedTable } from './plan.js'
import { planCopy } from './run-database.js'

/**
 * The dry run of a whole-database copy: the tables in load order, each with its rows, key, columns
 * and their type mapping, defaults, identity, checks, and the indexes and foreign keys built after
 * the data; then what is not copied and why. Both sides are opened read-only; a target database
 * that does not exist yet is planned as empty (the copy creates it).
 */
export async function dryRunDatabase(pipeline: ResolvedPipeline, logger: Logger): Promise<TablePlan[]> {
  const template = pipeline.database!.template
  const source = await openSource(template.source)
  let sink: Sink | undefined
  try {
    sink = await openSink(template.target, { readOnly: true }).catch((err: unknown) => {
      if (!(err instanceof ConnectionError) || !/does not exist|unknown database/i.test(messageOf(err))) throw err
      logger.info(`the target database \`${describeEndpoint(template.target)}\` does not exist: the copy creates it`)
      return undefined
    })
    const engine = sink?.engine ?? (typeof template.target === 'string' ? engineOf(template.target) : undefined) ?? '?'
    const { plan, tables } = await planCopy(pipeline, source, engine)
    logger.info(`plan of the whole database (${tables.length} table(s)), in load order: ${tables.map((t) => t.sourceTable).join(', ')}`)
    const plans: TablePlan[] = []
    const problems: string[] = []
    for (const [i, s] of tables.entries()) {
      const planned = plan.tables[i]!
      try {
        const p = sink ? await planTable(s, source, sink) : await sourceOnly(s, planned, source)
        logPlan(logger, p, schemaLines(planned, engine === 'sqlite'))
        plans.push(p)
      } catch (err) {
        problems.push(`${s.sourceTable} → ${s.targetTable}: ${messageOf(err)}`)
        logger.error(`plan for ${problems.at(-1)}`)
      }
    }
    const total = (f: (t: PlannedTable) => number) => plan.tables.reduce((n, t) => n + f(t), 0)
    logger.info(
      `after the data: ${total((t) => t.target.indexes?.length ?? 0)} index(es)${engine === 'sqlite' ? '' : `, ${total((t) => t.target.foreignKeys?.length ?? 0)} foreign key(s)`}, ${total((t) => t.target.columns.filter((c) => c.identity).length)} identity sequence(s) set past the largest value; then the target's schema is checked against this plan`,
    )
    for (const w of plan.warnings) logger.warn(w)
    for (const k of plan.skipped) logger.warn(`not copied: ${k.kind} \`${k.name}\`: ${k.reason}`)
    logger.info('dry run: nothing was written')
    if (problems.length) throw new ConfigError(`dry run: ${problems.length} of ${tables.length} table(s) cannot run:\n  ${problems.join('\n  ')}`)
    return plans
  } finally {
    await Promise.allSettled([source.close(), sink?.close()])
  }
}

/** The plan of a table whose target database is not there yet: the source's side, types as ferry names them. */
async function sourceOnly(s: ResolvedSettings, planned: PlannedTable, source: import('../source.js').Source): Promise<TablePlan> {
  return {
    sourceTable: s.sourceTable,
    targetTable: s.targetTable,
    key: planned.target.primaryKey.join(', '),
    rows: await source.count(s.sourceTable, s.where),
    strategy: s.strategy,
    chunks: 0,
    workers: 0,
    checkpointFile: s.checkpointFile,
    targetAction: 'create',
    columns: planned.target.columns.map((c, i) => ({ name: c.name, sourceType: planned.source.columns[i]?.nativeType ?? '?', targetType: c.type })),
    path: 'decided once the target database exists',
    sampleRows: 0,
    warnings: [],
  }
}

function schemaLines(t: PlannedTable, inline: boolean): string[] {
  const col = (c: ColumnInfo) =>
    [c.identity && 'identity', c.default !== undefined && `default ${c.default}`, c.domain && (c.domain.kind === 'year' ? 'YEAR' : `${c.domain.kind.toUpperCase()}(${c.domain.values.join(', ')})`), c.onUpdate && `on update ${c.onUpdate}`]
      .filter(Boolean)
      .join(', ')
  const columns = t.target.columns.filter((c) => col(c)).map((c) => `  ${c.name}: ${col(c)}`)
  return [
    ...(columns.length ? ['declarations:', ...columns] : []),
    ...(t.target.checks ?? []).map((k) => `check ${k.name}: ${k.sql}`),
    ...(t.target.indexes ?? []).map((i) => `${i.unique ? 'unique ' : ''}index ${i.name} (${i.columns.map((c) => `${c.name}${c.descending ? ' DESC' : ''}`).join(', ')})${inline ? '' : ' after the data'}`),
    ...(t.target.foreignKeys ?? []).map((f) => `foreign key ${f.name} (${f.columns.join(', ')}) → ${f.table} (${f.referencedColumns.join(', ')}) on delete ${f.onDelete.toLowerCase()}${inline ? ', declared with the table' : ', after all the data'}`),
  ]
}
