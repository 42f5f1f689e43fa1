import { join } from 'node:path'
import type { ResolvedSettings } from './config.js'
import { openSink } from './engines/registry.js'
import { createLogger, type Logger, stamp } from './log.js'
import { type ProgressFactory, progressBar, progressLines } from './progress.js'
import { RejectedRows } from './rejected.js'
import { buildReport, type RunStatus, totals, writeReport } from './report.js'
import type { ResolvedPipeline } from './resolve.js'
import type { TableResult } from './outcome.js'
import { runTable } from './run-table.js'
import { DatabaseRun } from './database/run-database.js'
import { InterruptedError } from './interrupt.js'
import { Scrubber } from './scrub.js'
import type { MigrationStats } from './stats.js'
import { runStep, type StepFunctionKind } from './steps.js'
import type { ValidationResult } from './validate.js'
import type { PipelineOrigin } from './distributed/job.js'

export { resolvePipeline, type ResolvedPipeline } from './resolve.js'

export interface RunOptions {
  /** Readable log lines (and a progress bar on a terminal) on stdout; the JSON log file is always written. */
  readonly console?: boolean
  /** Compare source and target (as `validate` says) without moving a row. */
  readonly validateOnly?: boolean
  /** How progress is shown; defaults to a bar on a terminal, log lines elsewhere. */
  readonly progress?: ProgressFactory
  /**
   * Aborted (with an `InterruptedError`) to stop the run at the next batch boundary: the checkpoint
   * is saved and the run ends INTERRUPTED.
   */
  readonly stop?: AbortSignal
  /** The command that continues the run, for the report of an interrupted one. */
  readonly resumeCommand?: string
  /** The pipeline as the command line named it: what a distributed run's workers load. */
  readonly origin?: PipelineOrigin
}

export interface RunResult {
  readonly status: RunStatus
  /** Totals over the tables (a single table's own statistics). */
  readonly stats: MigrationStats
  readonly tables: readonly TableResult[]
  /** The validation of a single-table pipeline. */
  readonly validation?: ValidationResult
  readonly reportFile: string
  readonly logFile: string
  /** Why the run failed; a `ConfigError` or `ConnectionError` means bad input. */
  readonly error?: Error
}

/**
 * Runs a pipeline's tables in order and returns their statistics; never throws for a failed run:
 * the result's `status` and `error` say what went wrong, and the report is written either way. A
 * failed table stops the run: later tables and the pipeline's `after` step do not run.
 */
export async function runPipeline(
  input: ResolvedPipeline | ResolvedSettings,
  options: RunOptions = {},
): Promise<RunResult> {
  const pipeline: ResolvedPipeline = 'tables' in input ? input : { name: input.name, tables: [input] }
  const first = pipeline.tables[0] ?? pipeline.database!.template
  const started = Date.now()
  const runStamp = stamp(new Date(started))
  // Before any connection opens: whatever a driver says later, these never reach a file or the console.
  const scrubber = Scrubber.for(pipeline.database ? [pipeline.database.template] : pipeline.tables)
  const { logger, file: logFile } = createLogger({
    pipeline: pipeline.name,
    logDir: first.logDir,
    level: first.logLevel,
    console: options.console ?? false,
    stamp: runStamp,
    scrub: scrubber.scrub,
  })
  const rejected = new RejectedRows(join(first.reportDir, `${pipeline.name}-${runStamp}.rejected.jsonl`), scrubber)
  const progress = options.progress ?? (options.console && process.stdout.isTTY ? progressBar : progressLines)
  const env = { logger, rejected, progress, validateOnly: options.validateOnly ?? false, stop: options.stop ?? new AbortController().signal, origin: options.origin }
  const results: TableResult[] = []
  let error: Error | undefined
  let whole: DatabaseRun | undefined
  let tables = pipeline.tables
  try {
    // A whole database: its tables are read from the source, and its schema is built around their loads.
    if (pipeline.database) whole = await DatabaseRun.open(pipeline, logger, env.validateOnly)
    tables = whole?.tables ?? tables
    const load = whole && !env.validateOnly ? whole : undefined
    if (!env.validateOnly) await pipelineStep('before', pipeline, logger)
    for (const table of tables) {
      if (load?.isDone(table)) {
        results.push(load.doneResult(table))
        continue
      }
      await load?.starting(table)
      const result = await runTable(table, env)
      results.push(result)
      if (result.status === 'FAILED' || result.status === 'INTERRUPTED') {
        error = result.error
        break
      }
      await load?.finished(table, result)
    }
    const loaded = results.every((r) => r.status === 'SUCCESS' || r.status === 'SUCCESS_WITH_REJECTS')
    if (!error && load && loaded) await load.finish()
    if (!error && !env.validateOnly) await pipelineStep('after', pipeline, logger)
  } catch (err) {
    error = err instanceof Error ? err : new Error(String(err))
    logger.error(error.message)
  } finally {
    await whole?.close()
  }
  for (const table of tables.slice(results.length)) results.push(notRun(table))
  for (const r of results) scrubber.error(r.error)
  scrubber.error(error)
  const interrupted = error instanceof InterruptedError
  const status: RunStatus = interrupted ? 'INTERRUPTED' : error ? 'FAILED' : worst(results)
  const resume = interrupted ? (options.resumeCommand ?? `npm run pipeline ${pipeline.name} -- --resume`) : undefined
  const stats = results.length === 1 && results[0]!.status !== 'NOT_RUN' ? results[0]!.stats : totals(results, started, Date.now())
  const report = buildReport({
    pipeline: pipeline.name,
    mode: env.validateOnly ? 'validate-only' : 'load',
    settings: tables.length ? tables : [first],
    results,
    stats,
    status,
    error: error?.message,
    logFile,
    rejectedRowsFile: rejected.count > 0 ? rejected.file : undefined,
    resume,
    ...(whole && { database: whole.summary() }),
  })
  const reportFile = join(first.reportDir, `${pipeline.name}-${runStamp}.json`)
  await writeReport(reportFile, report, scrubber.scrub)
  if (results.length > 1) logTables(logger, results, stats, env.validateOnly)
  const done = env.validateOnly
    ? `validated ${results.filter((r) => r.validation).length} table(s) in ${report.summary.time}`
    : `${stats.migrated} migrated, ${stats.skipped} skipped, ${stats.failed} failed of ${stats.total} in ${report.summary.time} (${report.summary.speed})`
  const line = `${status}: ${done}; report ${reportFile}${resume ? `; continue with: ${resume}` : ''}`
  if (status === 'SUCCESS' || status === 'SUCCESS_WITH_REJECTS') logger.info(line)
  else logger.error(line)
  logger.flush()
  const validation = results.length === 1 ? results[0]!.validation : undefined
  return { status, stats, tables: results, ...(validation && { validation }), reportFile, logFile, ...(error && { error }) }
}

/** The pipeline's own before/after step, on a target connection of its own. */
async function pipelineStep(kind: StepFunctionKind, pipeline: ResolvedPipeline, logger: Logger): Promise<void> {
  const step = pipeline[kind]
  if (!step) return
  const sink = await openSink(pipeline.tables[0]!.target)
  try {
    await runStep(kind, step, sink, logger)
  } finally {
    await sink.close()
  }
}

function notRun(s: ResolvedSettings): TableResult {
  const now = new Date().toISOString()
  return {
    sourceTable: s.sourceTable,
    targetTable: s.targetTable,
    status: 'NOT_RUN',
    stats: { total: 0, migrated: 0, failed: 0, skipped: 0, filtered: 0, startTime: now, elapsedSeconds: 0, averageRate: 0, errors: [], workers: [] },
  }
}

/** The worst status of the tables, by what it asks of the user: failures first. */
function worst(results: readonly TableResult[]): RunStatus {
  const order: RunStatus[] = ['FAILED', 'VALIDATION_FAILED', 'REJECTED_ROWS', 'SUCCESS_WITH_REJECTS']
  return order.find((status) => results.some((r) => r.status === status)) ?? 'SUCCESS'
}

/**
 * One line per table and a total, as the end-of-run summary: rows written, time and rate; for
 * `--validate-only`, what was compared.
 */
function logTables(logger: Logger, results: readonly TableResult[], total: MigrationStats, validateOnly: boolean): void {
  const width = Math.max(5, ...results.map((r) => r.targetTable.length))
  const time = (s: MigrationStats) => `${s.elapsedSeconds.toFixed(2).padStart(8)} s`
  const line = (name: string, status: string, r: { stats: MigrationStats; validation?: ValidationResult }) => {
    const head = `${name.padEnd(width)}  ${status.padEnd(20)}`
    if (!validateOnly) return `${head} ${String(r.stats.migrated).padStart(10)} rows  ${time(r.stats)}  ${String(r.stats.averageRate).padStart(8)} rows/s`
    const v = r.validation
    const compared = v ? `${v.mode}: source ${v.sourceCount} rows, expected ${v.expectedCount}, target ${v.targetCount}` : ''
    return `${head} ${compared}  ${time(r.stats)}`
  }
  logger.info(['tables:', ...results.map((r) => line(r.targetTable, r.status, r)), line('total', '', { stats: total })].join('\n  '))
}
