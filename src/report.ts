import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { ResolvedSettings } from './config.js'
import { redact, redactText, redactUrl } from './redact.js'
import type { Scrub } from './scrub.js'
import type { TableResult, TableStatus } from './outcome.js'
import type { MigrationStats } from './stats.js'
import type { ValidationResult } from './validate.js'
import type { DatabaseSummary } from './database/run-database.js'

/** A run's status: its worst table's (see `TableStatus`), NOT_RUN aside. */
export type RunStatus = Exclude<TableStatus, 'NOT_RUN'>

/** The JSON file a run leaves under `reports/`. */
export interface Report {
  readonly pipeline: string
  /** A load, or `--validate-only` (which moves nothing). */
  readonly mode: 'load' | 'validate-only'
  readonly configuration: unknown
  /** Totals over all tables. */
  readonly statistics: MigrationStats
  /** The validation of a single-table pipeline; each table's is under `tables`. */
  readonly validation?: ValidationResult
  readonly tables: readonly {
    readonly sourceTable: string
    readonly targetTable: string
    readonly status: TableStatus
    readonly statistics: MigrationStats
    readonly validation?: ValidationResult
    readonly error?: string
    /** The files holding this table's refused rows, from this run and the runs it continues. */
    readonly rejectedRowsFiles?: readonly string[]
    readonly distributed?: TableResult['distributed']
  }[]
  /** A whole-database copy: the load order, the schema objects planned, and what was not copied, and why. */
  readonly database?: DatabaseSummary
  readonly summary: {
    readonly status: RunStatus
    /** Percent of the source's rows handled (written, skipped or set aside). */
    readonly completion: number
    readonly speed: string
    readonly time: string
    readonly error?: string
    readonly logFile: string
    readonly rejectedRowsFile?: string
    /** For an interrupted run: the command that continues it from its checkpoint. */
    readonly resume?: string
  }
}

export function buildReport(input: {
  pipeline: string
  mode: Report['mode']
  settings: readonly ResolvedSettings[]
  results: readonly TableResult[]
  stats: MigrationStats
  status: RunStatus
  error?: string | undefined
  logFile: string
  rejectedRowsFile?: string | undefined
  resume?: string | undefined
  database?: DatabaseSummary
}): Report {
  const { stats } = input
  const done = stats.migrated + stats.failed + stats.skipped
  const completion = stats.total === 0 ? 100 : Math.round((done / stats.total) * 10000) / 100
  const single = input.settings.length === 1
  const validation = single ? input.results[0]?.validation : undefined
  return {
    pipeline: input.pipeline,
    mode: input.mode,
    configuration: single ? redact(input.settings[0]) : { tables: input.settings.map((s) => redact(s)) },
    statistics: stats,
    ...(validation && { validation }),
    tables: input.results.map((r) => ({
      sourceTable: r.sourceTable,
      targetTable: r.targetTable,
      status: r.status,
      statistics: r.stats,
      ...(r.validation && { validation: r.validation }),
      ...(r.error && { error: r.error.message }),
      ...(r.rejectedRowsFiles && { rejectedRowsFiles: r.rejectedRowsFiles }),
      ...(r.distributed && { distributed: { ...r.distributed, queue: redactUrl(r.distributed.queue) } }),
    })),
    ...(input.database && { database: input.database }),
    summary: {
      status: input.status,
      completion,
      speed: `${stats.averageRate} rows/s`,
      time: `${stats.elapsedSeconds} s`,
      ...(input.error !== undefined && { error: input.error }),
      logFile: input.logFile,
      ...(input.rejectedRowsFile !== undefined && { rejectedRowsFile: input.rejectedRowsFile }),
      ...(input.resume !== undefined && { resume: input.resume }),
    },
  }
}

/** Sums the tables' statistics; the elapsed time is the whole run's. */
export function totals(results: readonly TableResult[], started: number, ended: number): MigrationStats {
  const sum = (pick: (s: MigrationStats) => number) => results.reduce((n, r) => n + pick(r.stats), 0)
  const elapsed = (ended - started) / 1000
  const done = sum((s) => s.migrated + s.failed + s.skipped)
  const workers: number[] = []
  for (const r of results) r.stats.workers.forEach((rows, i) => (workers[i] = (workers[i] ?? 0) + rows))
  return {
    total: sum((s) => s.total),
    migrated: sum((s) => s.migrated),
    failed: sum((s) => s.failed),
    skipped: sum((s) => s.skipped),
    filtered: sum((s) => s.filtered),
    startTime: new Date(started).toISOString(),
    endTime: new Date(ended).toISOString(),
    elapsedSeconds: Math.round(elapsed * 1000) / 1000,
    averageRate: elapsed > 0 ? Math.round(done / elapsed) : 0,
    errors: results.flatMap((r) => r.stats.errors),
    workers,
  }
}

/** Writes the report; `scrub` (the run's `Scrubber`) cleans its text, error messages included. */
export async function writeReport(file: string, report: Report, scrub: Scrub = redactText): Promise<void> {
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, scrub(JSON.stringify(report, null, 2)) + '\n')
}
