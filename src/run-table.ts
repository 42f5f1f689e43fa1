import { Checkpoint, type CheckpointState, loadCheckpoint, settingsHash } from './checkpoint.js'
import type { ResolvedSettings } from './config.js'
import { describeEndpoint, openSink, openSource, openTargetAsSource } from './dialects/index.js'
import { CheckpointError, messageOf, MissingTableError, RowRejectedError } from './errors.js'
import { inspect } from './inspect.js'
import { keyId } from './keys.js'
import type { Logger } from './log.js'
import type { RunContext } from './pipeline.js'
import { type ProgressFactory, progressLine } from './progress.js'
import type { RejectedRows } from './rejected.js'
import type { Sink } from './sink.js'
import type { Source } from './source.js'
import { type MigrationStats, Stats } from './stats.js'
import { runStep } from './steps.js'
import { strategyFor } from './strategy.js'
import type { TableSchema } from './types.js'
import { validateRun, type ValidationResult } from './validate.js'
import { runRanges } from './workers.js'

export type TableStatus = 'SUCCESS' | 'FAILED' | 'VALIDATION_FAILED' | 'NOT_RUN'

export interface TableResult {
  readonly sourceTable: string
  readonly targetTable: string
  readonly status: TableStatus
  readonly stats: MigrationStats
  readonly validation?: ValidationResult
  readonly error?: Error
}

export interface TableEnv {
  readonly logger: Logger
  readonly rejected: RejectedRows
  readonly progress: ProgressFactory
  readonly validateOnly: boolean
}

/** Loads one table: plan, before step, the strategy's ranges, deferred indexes, after step, validation. */
export async function runTable(s: ResolvedSettings, env: TableEnv): Promise<TableResult> {
  const { logger } = env
  const stats = new Stats()
  const opened: { source?: Source; sink?: Sink; targetReader?: Source } = {}
  let validation: ValidationResult | undefined
  let status: TableStatus = 'FAILED'
  let error: Error | undefined
  let progress = { stop: () => {} }
  try {
    logger.info(
      `${s.sourceTable} → ${s.targetTable}: ${describeEndpoint(s.source)} → ${describeEndpoint(s.target)} (${s.strategy})`,
    )
    const source = (opened.source = await openSource(s.source))
    const sink = (opened.sink = await openSink(s.target))
    let target: TableSchema
    let checkpoint: Checkpoint | undefined
    if (env.validateOnly) {
      target = await existingTarget(sink, s)
    } else {
      const ctx = await prepare(s, source, sink, stats, env)
      target = ctx.target
      checkpoint = ctx.checkpoint
      progress = env.progress(s.targetTable, stats, logger, s.progressInterval)
      await runRanges(ctx, { source, sink }, strategyFor(s.strategy).concurrency(s), logger)
      stats.end()
      progress.stop()
      logger.info(`loaded: ${progressLine(stats)}`)
      if (stats.workers.length > 1) logger.info(`rows per worker: ${stats.workers.join(', ')}`)
      await buildDeferredIndexes(sink, checkpoint, logger)
      await runStep('after', s.after, sink, logger, s.targetTable)
    }
    if (s.validate !== false || env.validateOnly) {
      validation = await validate(s, target, stats, opened, logger)
      if (env.validateOnly && validation) stats.total = validation.sourceCount
    }
    status = validation?.passed === false ? 'VALIDATION_FAILED' : 'SUCCESS'
    // Removed only now: a run killed during validation resumes straight to validating.
    await checkpoint?.remove()
  } catch (err) {
    error = err instanceof Error ? err : new Error(String(err))
    logger.error(error.message)
  } finally {
    progress.stop()
    stats.end()
    await Promise.allSettled([opened.source?.close(), opened.sink?.close(), opened.targetReader?.close()])
  }
  return {
    sourceTable: s.sourceTable,
    targetTable: s.targetTable,
    status,
    stats: stats.snapshot(),
    ...(validation && { validation }),
    ...(error && { error }),
  }
}

/** Everything before the first write: inspection, checkpoint, target preparation, before step. */
async function prepare(
  s: ResolvedSettings,
  source: Source,
  sink: Sink,
  stats: Stats,
  env: TableEnv,
): Promise<RunContext> {
  const { logger } = env
  const seen = await inspect(s, source, sink)
  stats.total = seen.total
  const hash = checkpointHash(s)
  let state = s.resume ? await loadCheckpoint(s.checkpointFile) : undefined
  if (state && state.settingsHash !== hash) {
    throw new CheckpointError(
      `checkpoint \`${s.checkpointFile}\` was written by other settings (table, key, filter, transform or databases changed); run without --resume to start over, or restore the settings`,
    )
  }
  if (s.resume && !state) logger.warn(`no checkpoint at ${s.checkpointFile}; starting from the beginning`)
  const resuming = state !== undefined
  let target: TableSchema
  if (state) {
    target = await existingTarget(sink, s)
    stats.restore(state.counts)
    logger.info(resumeLine(s, state, stats))
  } else {
    await runStep('before', s.before, sink, logger, s.targetTable)
    target = await sink.prepare({ table: s.targetTable, schema: seen.target, mode: s.writeMode })
    state = await freshState(s, source, hash, await deferIndexes(s, sink, logger))
    logger.info(`${stats.total} rows in ${state.ranges.length} chunk(s); target \`${s.targetTable}\` prepared (${s.writeMode})`)
  }
  const checkpoint = new Checkpoint(state, { file: s.checkpointFile, interval: s.checkpointInterval, enabled: s.checkpoints })
  await checkpoint.save()
  return { settings: s, target, stats, checkpoint, resuming, onRejected: rejectHandler(s, stats, env) }
}

function checkpointHash(s: ResolvedSettings): string {
  return settingsHash({
    source: describeEndpoint(s.source),
    target: describeEndpoint(s.target),
    sourceTable: s.sourceTable,
    targetTable: s.targetTable,
    primaryKey: s.primaryKey,
    targetKey: s.targetKey,
    where: s.where ?? null,
    transform: s.transform?.toString() ?? null,
  })
}

function resumeLine(s: ResolvedSettings, state: CheckpointState, stats: Stats): string {
  const done = state.ranges.filter((r) => r.done).length
  const lastKeys = state.ranges.flatMap((r) => (!r.done && r.lastKey !== undefined ? [String(r.lastKey)] : []))
  return `resuming from ${s.checkpointFile}: ${done}/${state.ranges.length} chunks done, ${stats.done} rows done, last keys ${lastKeys.join(', ') || 'none'}`
}

function rejectHandler(s: ResolvedSettings, stats: Stats, env: TableEnv): RunContext['onRejected'] {
  return async (row, err) => {
    const key = row[s.targetKey]
    const skip = s.onRejectedRow === 'skip'
    stats.addError({ message: messageOf(err), rows: 1, attempt: 1, resolved: skip, kind: 'rejected', key: keyId(key) })
    if (!skip) throw new RowRejectedError(s.targetTable, key as never, err)
    env.logger.warn(`row with key ${String(key)} rejected by \`${s.targetTable}\`: ${messageOf(err)}`)
    await env.rejected.add(key, err, row)
  }
}

async function deferIndexes(s: ResolvedSettings, sink: Sink, logger: Logger): Promise<string[]> {
  if (!s.deferIndexes) return []
  if (!sink.dropSecondaryIndexes) {
    logger.warn(`deferIndexes: the ${sink.dialect} target keeps its indexes during the load`)
    return []
  }
  const statements = await sink.dropSecondaryIndexes(s.targetTable)
  if (statements.length) logger.info(`deferIndexes: dropped ${statements.length} secondary index(es) of \`${s.targetTable}\` until the load ends`)
  return statements
}

async function buildDeferredIndexes(sink: Sink, checkpoint: Checkpoint, logger: Logger): Promise<void> {
  const statements = checkpoint.state.deferredIndexes ?? []
  if (statements.length === 0 || !sink.execute) return
  const started = Date.now()
  for (const statement of statements) await sink.execute(statement)
  logger.info(`deferIndexes: built ${statements.length} index(es) in ${((Date.now() - started) / 1000).toFixed(2)} s`)
}

async function existingTarget(sink: Sink, s: ResolvedSettings): Promise<TableSchema> {
  const target = await sink.describe(s.targetTable)
  if (!target) throw new MissingTableError(s.targetTable, `the target \`${describeEndpoint(s.target)}\``)
  return { ...target, primaryKey: target.primaryKey.length ? target.primaryKey : [s.targetKey] }
}

async function freshState(
  s: ResolvedSettings,
  source: Source,
  hash: string,
  deferredIndexes: string[],
): Promise<CheckpointState> {
  const ranges = await strategyFor(s.strategy).plan(source, s)
  return {
    pipeline: s.name,
    table: s.sourceTable,
    settingsHash: hash,
    ranges: ranges.map((range) => ({ range, done: false })),
    counts: { migrated: 0, failed: 0, skipped: 0, filtered: 0 },
    ...(deferredIndexes.length && { deferredIndexes }),
  }
}

async function validate(
  s: ResolvedSettings,
  targetSchema: TableSchema,
  stats: Stats,
  opened: { source?: Source; targetReader?: Source },
  logger: Logger,
): Promise<ValidationResult | undefined> {
  const target = (opened.targetReader = await openTargetAsSource(s.target))
  if (!target) {
    logger.warn('validation skipped: the target is a factory, not a URL that can be read back')
    return undefined
  }
  const result = await validateRun({
    settings: s,
    source: opened.source!,
    target,
    targetSchema,
    notExpected: stats.failed + stats.filtered,
  })
  const line = `validation (${result.mode}): source ${result.sourceCount}, expected ${result.expectedCount}, target ${result.targetCount}`
  if (result.passed) logger.info(`${line}: passed`)
  else {
    const keys = result.mismatchedChunks?.length
      ? ` in ${result.mismatchedChunks.length} chunk(s); missing keys ${result.missingKeys?.join(', ') || '-'}; extra ${result.extraKeys?.join(', ') || '-'}; differing ${result.differingKeys?.join(', ') || '-'}`
      : ''
    logger.error({ mismatchedChunks: result.mismatchedChunks }, `${line}: FAILED${keys}`)
  }
  return result
}
