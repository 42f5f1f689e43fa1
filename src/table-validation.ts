import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ResolvedSettings } from './config.js'
import { openTargetAsSource } from './engines/registry.js'
import { messageOf } from './errors.js'
import type { Keys } from './key-check.js'
import type { Logger } from './log.js'
import type { Report } from './report.js'
import type { Sink, WriteTarget } from './sink.js'
import type { Source } from './source.js'
import type { Json } from './types.js'
import { validateRun, type ValidationResult } from './validate.js'

export interface TableValidation {
  readonly keys: Keys
  readonly source: Source
  readonly sink: Sink
  readonly target: WriteTarget
  readonly partitions: readonly Json[]
  /** Source rows the transform dropped; undefined when not known (validate-only): then counted. */
  readonly filtered?: number
  /** `keyId`s of the target keys of the rows set aside. */
  readonly rejected: ReadonlySet<string>
  /** Stops retries of failed reads and lookups. */
  readonly stop: AbortSignal
}

/** Validates a table as `validate` says and logs what it compared and what differs. */
export async function validateTable(s: ResolvedSettings, run: TableValidation, logger: Logger): Promise<ValidationResult> {
  const result = await validateRun({
    settings: s,
    keys: run.keys,
    source: run.source,
    sink: run.sink,
    target: run.target,
    partitions: run.partitions,
    filtered: run.filtered,
    rejected: run.rejected,
    retry: {
      maxRetries: s.maxRetries,
      retryDelay: s.retryDelay,
      signal: run.stop,
      failed: (err, attempt, retriesLeft, delay) => {
        const next = retriesLeft > 0 ? `; trying again in ${delay / 1000} s (${retriesLeft} more ${retriesLeft === 1 ? 'try' : 'tries'})` : '; giving up'
        logger.warn(`validation of \`${s.targetTable}\`: a read failed (attempt ${attempt}): ${messageOf(err)}${next}`)
      },
      resolved: () => {},
    },
    targetReader: () => openTargetAsSource(s.target),
  })
  const set = run.rejected.size ? `, ${run.rejected.size} set aside` : ''
  const line = `validation (${result.mode}): source ${result.sourceCount}, expected ${result.expectedCount}${set}, target ${result.targetCount}`
  if (result.passed) logger.info(`${line}: passed`)
  else {
    const keys =
      result.mode === 'checksum'
        ? `${unread(result)} in ${result.mismatchedPartitions?.length ?? 0} chunk(s); missing keys ${result.missingKeys?.join(', ') || '-'}; extra ${result.extraKeys?.join(', ') || '-'}; differing ${result.differingKeys?.join(', ') || '-'}${columnsLine(result)}${shared(result)}`
        : ''
    // One line: the partitions that differ (a hundred at most) are in the report, not the log.
    logger.error(`${line}: FAILED${keys}`)
  }
  return result
}

function unread(result: ValidationResult): string {
  const read = result.sourceRowsRead
  return read !== undefined && read !== result.sourceCount ? `; the comparison read ${read} of the ${result.sourceCount} source rows` : ''
}

function shared(result: ValidationResult): string {
  return result.sharedKeys?.length ? `; target keys several source rows are transformed to: ${result.sharedKeys.join(', ')}` : ''
}

function columnsLine(result: ValidationResult): string {
  const columns = Object.entries(result.differingColumns ?? {})
  return columns.length ? ` (in ${columns.map(([c, n]) => `\`${c}\` ${n}×`).join(', ')})` : ''
}

/**
 * The rejected-rows files behind the table's last load, as its report lists them, for
 * `--validate-only`: the rows they hold were set aside on purpose and are not expected.
 */
export async function lastRejectedFiles(s: ResolvedSettings): Promise<readonly string[]> {
  const names = (await readdir(s.reportDir).catch(() => [] as string[]))
    .filter((n) => n.startsWith(`${s.name}-`) && n.endsWith('.json'))
    .sort()
    .reverse()
  for (const name of names) {
    let report: Report
    try {
      report = JSON.parse(await readFile(join(s.reportDir, name), 'utf8')) as Report
    } catch {
      continue
    }
    if (report.mode === 'validate-only') continue
    const table = report.tables?.find((t) => t.targetTable === s.targetTable)
    if (table && table.status !== 'NOT_RUN') return table.rejectedRowsFiles ?? []
  }
  return []
}
