import { join } from 'node:path'
import { Checkpoint, type CheckpointState, loadCheckpoint, settingsHash } from './checkpoint.js'
import { type PipelineSettings, type ResolvedSettings, resolveSettings } from './config.js'
import type { Pipeline } from './define.js'
import { describeEndpoint, openSink, openSource, openTargetAsSource } from './dialects/index.js'
import { CheckpointError, ConfigError, messageOf, MissingTableError, RowRejectedError } from './errors.js'
import { keyId } from './keys.js'
import { createLogger, type Logger } from './log.js'
import type { RunContext } from './pipeline.js'
import { progressLine, startProgress } from './progress.js'
import { RejectedRows } from './rejected.js'
import { buildReport, type RunStatus, writeReport } from './report.js'
import type { Sink } from './sink.js'
import type { Source } from './source.js'
import { type MigrationStats, Stats } from './stats.js'
import { strategyFor } from './strategy.js'
import { checkColumns, inferTargetSchema } from './target-schema.js'
import type { Row, TableSchema } from './types.js'
import { validateRun, type ValidationResult } from './validate.js'
import { runRanges } from './workers.js'

export interface RunOptions {
  /** Readable log lines on stdout (the CLI); the JSON log file is always written. */
  readonly console?: boolean
  /** Compare source and target (as `validate` says) without moving a row. */
  readonly validateOnly?: boolean
}

export interface RunResult {
  readonly status: RunStatus
  readonly stats: MigrationStats
  readonly validation?: ValidationResult
  readonly reportFile: string
  readonly logFile: string
  /** Why the run failed; a `ConfigError` or `ConnectionError` means bad input. */
  readonly error?: Error
}

/** Validates a pipeline's settings (with overrides, e.g. from the command line) without connecting. */
export function resolvePipeline(
  name: string,
  pipeline: Pipeline | PipelineSettings,
  overrides: Partial<PipelineSettings> = {},
): ResolvedSettings {
  const settings = 'settings' in pipeline ? pipeline.settings : pipeline
  return resolveSettings(name, { ...settings, ...overrides })
}

/**
 * Runs a pipeline to the end and returns its statistics; never throws for a failed run: the
 * result's `status` and `error` say what went wrong, and the report is written either way.
 */
export async function runPipeline(settings: ResolvedSettings, options: RunOptions = {}): Promise<RunResult> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const { logger, file: logFile } = createLogger({
    pipeline: settings.name,
    logDir: settings.logDir,
    level: settings.logLevel,
    console: options.console ?? false,
    stamp,
  })
  const reportFile = join(settings.reportDir, `${settings.name}-${stamp}.json`)
  const rejected = new RejectedRows(join(settings.reportDir, `${settings.name}-${stamp}.rejected.jsonl`))
  const stats = new Stats()
  const opened: { source?: Source; sink?: Sink; targetReader?: Source } = {}
  let validation: ValidationResult | undefined
  let status: RunStatus = 'FAILED'
  let error: Error | undefined
  let stopProgress = () => {}
  try {
    logger.info(
      `${settings.sourceTable} → ${settings.targetTable}: ${describeEndpoint(settings.source)} → ${describeEndpoint(settings.target)} (${settings.strategy})`,
    )
    const source = (opened.source = await openSource(settings.source))
    const sink = (opened.sink = await openSink(settings.target))
    let target: TableSchema
    let checkpoint: Checkpoint | undefined
    if (options.validateOnly) {
      target = await existingTarget(sink, settings)
      stats.total = await source.count(settings.sourceTable, settings.where)
    } else {
      const ctx = await plan(settings, source, sink, stats, rejected, logger)
      target = ctx.target
      stopProgress = startProgress(logger, stats, settings.progressInterval)
      await runRanges(ctx, { source, sink }, strategyFor(settings.strategy).concurrency(settings), logger)
      stats.end()
      stopProgress()
      logger.info(`loaded: ${progressLine(stats)}`)
      checkpoint = ctx.checkpoint
    }
    if (settings.validate !== false || options.validateOnly) {
      validation = await validate(settings, target, stats, opened, logger)
    }
    status = validation?.passed === false ? 'VALIDATION_FAILED' : 'SUCCESS'
    // Removed only now: a run killed during validation resumes straight to validating.
    await checkpoint?.remove()
  } catch (err) {
    error = err instanceof Error ? err : new Error(String(err))
    logger.error(error.message)
  } finally {
    stopProgress()
    stats.end()
    await Promise.allSettled([opened.source?.close(), opened.sink?.close(), opened.targetReader?.close()])
  }
  const snapshot = stats.snapshot()
  const report = buildReport({
    settings,
    stats: snapshot,
    validation,
    status,
    error: error?.message,
    logFile,
    rejectedRowsFile: rejected.count > 0 ? rejected.file : undefined,
  })
  await writeReport(reportFile, report)
  logger.info(
    `${status}: ${snapshot.migrated} migrated, ${snapshot.skipped} skipped, ${snapshot.failed} failed of ${snapshot.total} in ${report.summary.time} (${report.summary.speed}); report ${reportFile}`,
  )
  logger.flush()
  return { status, stats: snapshot, ...(validation && { validation }), reportFile, logFile, ...(error && { error }) }
}

/** Everything before the first write: schema, counts, checkpoint, target preparation. */
async function plan(
  s: ResolvedSettings,
  source: Source,
  sink: Sink,
  stats: Stats,
  rejected: RejectedRows,
  logger: Logger,
): Promise<RunContext> {
  const sourceSchema = await source.describe(s.sourceTable)
  if (!sourceSchema.columns.some((c) => c.name === s.primaryKey)) {
    throw new ConfigError(
      `setting \`primaryKey\`: source table \`${s.sourceTable}\` has no column \`${s.primaryKey}\` (it has ${sourceSchema.columns.map((c) => c.name).join(', ')})`,
    )
  }
  stats.total = await countOrExplain(source, s)
  const hash = settingsHash({
    source: describeEndpoint(s.source),
    target: describeEndpoint(s.target),
    sourceTable: s.sourceTable,
    targetTable: s.targetTable,
    primaryKey: s.primaryKey,
    targetKey: s.targetKey,
    where: s.where ?? null,
    transform: s.transform?.toString() ?? null,
  })
  const checkpointFile = join(s.checkpointDir, `${s.name}.json`)
  let state = s.resume ? await loadCheckpoint(checkpointFile) : undefined
  if (state && state.settingsHash !== hash) {
    throw new CheckpointError(
      `checkpoint \`${checkpointFile}\` was written by other settings (table, key, filter, transform or databases changed); run without --resume to start over, or restore the settings`,
    )
  }
  if (s.resume && !state) logger.warn(`no checkpoint at ${checkpointFile}; starting from the beginning`)
  const sample = await sampleRows(source, s)
  const target = state
    ? await existingTarget(sink, s)
    : await sink.prepare({ table: s.targetTable, schema: inferTargetSchema(s, sourceSchema, sample), mode: s.writeMode })
  checkColumns(target, sample.flatMap((p) => (p.target ? [p.target] : [])))
  const resuming = state !== undefined
  if (state) {
    stats.restore(state.counts)
    const done = state.ranges.filter((r) => r.done).length
    logger.info(
      `resuming from ${checkpointFile}: ${done}/${state.ranges.length} chunks done, ${stats.done} rows done, last keys ${state.ranges.flatMap((r) => (!r.done && r.lastKey !== undefined ? [String(r.lastKey)] : [])).join(', ') || 'none'}`,
    )
  } else {
    state = await freshState(s, source, hash)
    logger.info(`${stats.total} rows in ${state.ranges.length} chunk(s); target \`${s.targetTable}\` prepared (${s.writeMode})`)
  }
  const checkpoint = new Checkpoint(state, {
    file: checkpointFile,
    interval: s.checkpointInterval,
    enabled: s.checkpoints,
  })
  await checkpoint.save()
  return {
    settings: s,
    target,
    stats,
    checkpoint,
    resuming,
    onRejected: async (row, err) => {
      const key = row[s.targetKey]
      stats.addError({ message: messageOf(err), rows: 1, attempt: 1, resolved: s.onRejectedRow === 'skip', kind: 'rejected', key: keyId(key) })
      if (s.onRejectedRow !== 'skip') throw new RowRejectedError(s.targetTable, key as never, err)
      logger.warn(`row with key ${String(key)} rejected by \`${s.targetTable}\`: ${messageOf(err)}`)
      await rejected.add(key, err, row)
    },
  }
}

async function countOrExplain(source: Source, s: ResolvedSettings): Promise<number> {
  try {
    return await source.count(s.sourceTable, s.where)
  } catch (err) {
    if (!s.where) throw err
    throw new ConfigError(`setting \`where\` (${s.where}) does not work on \`${s.sourceTable}\`: ${messageOf(err)}`, { cause: err })
  }
}

async function sampleRows(source: Source, s: ResolvedSettings) {
  const sample: { source: Row; target: Row | null | undefined }[] = []
  const pages = source.read({ table: s.sourceTable, key: s.primaryKey, range: {}, where: s.where, pageSize: 100 })
  for await (const page of pages) {
    for (const row of page) {
      // Transforms may rewrite their input; keep an untouched copy to compare with.
      const copy = { ...row }
      sample.push({ source: copy, target: s.transform ? await s.transform(row) : row })
    }
    break
  }
  return sample
}

async function existingTarget(sink: Sink, s: ResolvedSettings): Promise<TableSchema> {
  const target = await sink.describe(s.targetTable)
  if (!target) throw new MissingTableError(s.targetTable, `the target \`${describeEndpoint(s.target)}\``)
  return { ...target, primaryKey: target.primaryKey.length ? target.primaryKey : [s.targetKey] }
}

async function freshState(s: ResolvedSettings, source: Source, hash: string): Promise<CheckpointState> {
  const ranges = await strategyFor(s.strategy).plan(source, s)
  return {
    pipeline: s.name,
    table: s.sourceTable,
    settingsHash: hash,
    ranges: ranges.map((range) => ({ range, done: false })),
    counts: { migrated: 0, failed: 0, skipped: 0, filtered: 0 },
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
    logger.error(
      { mismatchedChunks: result.mismatchedChunks, missing: result.missingKeys, extra: result.extraKeys, differing: result.differingKeys },
      `${line}: FAILED${result.mismatchedChunks?.length ? ` in ${result.mismatchedChunks.length} chunk(s); missing keys ${result.missingKeys?.join(', ') || '-'}; extra ${result.extraKeys?.join(', ') || '-'}; differing ${result.differingKeys?.join(', ') || '-'}` : ''}`,
    )
  }
  return result
}
