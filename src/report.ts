import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { ResolvedSettings } from './config.js'
import { redact } from './redact.js'
import type { MigrationStats } from './stats.js'
import type { ValidationResult } from './validate.js'

export type RunStatus = 'SUCCESS' | 'FAILED' | 'VALIDATION_FAILED'

/** The JSON file a run leaves under `reports/`. */
export interface Report {
  readonly pipeline: string
  readonly configuration: unknown
  readonly statistics: MigrationStats
  readonly validation?: ValidationResult
  readonly summary: {
    readonly status: RunStatus
    /** Percent of the source's rows handled (written, skipped or set aside). */
    readonly completion: number
    readonly speed: string
    readonly time: string
    readonly error?: string
    readonly logFile: string
    readonly rejectedRowsFile?: string
  }
}

export function buildReport(input: {
  settings: ResolvedSettings
  stats: MigrationStats
  validation?: ValidationResult | undefined
  status: RunStatus
  error?: string | undefined
  logFile: string
  rejectedRowsFile?: string | undefined
}): Report {
  const { stats } = input
  const done = stats.migrated + stats.failed + stats.skipped
  const completion = stats.total === 0 ? 100 : Math.round((done / stats.total) * 10000) / 100
  return {
    pipeline: input.settings.name,
    configuration: redact(input.settings),
    statistics: stats,
    ...(input.validation && { validation: input.validation }),
    summary: {
      status: input.status,
      completion,
      speed: `${stats.averageRate} rows/s`,
      time: `${stats.elapsedSeconds} s`,
      ...(input.error !== undefined && { error: input.error }),
      logFile: input.logFile,
      ...(input.rejectedRowsFile !== undefined && { rejectedRowsFile: input.rejectedRowsFile }),
    },
  }
}

export async function writeReport(file: string, report: Report): Promise<void> {
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, JSON.stringify(report, null, 2) + '\n')
}
