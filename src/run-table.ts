import { keyId } from './canonical.js'
import { Checkpoint, type CheckpointState, loadCheckpoint, settingsHash } from './checkpoint.js'
import type { ResolvedSettings } from './config.js'
import { DeferredIndexes } from './deferred-indexes.js'
import { describeEndpoint, openSink, openSource, openTargetAsSource } from './engines/registry.js'
import { CheckpointError, messageOf, MissingTableError, RowRejectedError } from './errors.js'
import { inspect, type Inspection } from './inspect.js'
import type { Keys } from './key-check.js'
import { keyOf, keyText } from './keys.js'
import type { Logger } from './log.js'
import type { RunContext } from './pipeline.js'
import { type ProgressFactory, progressLine } from './progress.js'
import type { RejectedRows } from './rejected.js'
import type { Sink, WriteTarget } from './sink.js'
import type { Source } from './source.js'
import { type MigrationStats, Stats } from './stats.js'
import { runStep } from './steps.js'
import { strategyFor } from './strategy.js'
import type { Json, TableSchema } from './types.js'
import { validateRun, type ValidationResult } from './validate.js'
import { runPartitions } from './workers.js'

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

/** Loads one table: plan, before step, the strategy's partitions, deferred indexes, after step, validation. */
export async function runTable(s: ResolvedSettings, env: TableEnv): Promise<TableResult> {
  const { logger } = env
  const stats = new Stats()
  const opened: { source?: Source; sink?: Sink } = {}
  let indexes: DeferredIndexes | undefined
  let validation: ValidationResult | undefined
  let status: TableStatus = 'FAILED'
  let error: Error | undefined
  let progress = { stop: () => {} }
  try {
    logger.info(
      `${s.sourceTable} → ${s.targetTable}: ${describeEndpoint(s.source)} → ${describeEndpoint(s.target)} (${s.strategy})`,
    )
    const source = (opened.source = await openSource(s.source))
    const sink = (opened.sink = await openSink(s.target, { durableCommits: s.checkpoints }))
    indexes = new DeferredIndexes(s, sink, logger)
    const seen = await inspect(s, source, sink)
    logger.info(`key ${keyNames(seen.keys.source)} (${seen.keys.origin}) → target key ${keyNames(seen.keys.target)}`)
    const rejected = new Set<string>()
    let target: WriteTarget
    let partitions: readonly Json[]
    let checkpoint: Checkpoint | undefined
    if (env.validateOnly) {
      target = writeTarget(seen.keys, await existingTarget(sink, s), seen)
      partitions = await strategyFor('chunked').plan(source, read(s, seen.keys), s)
    } else {
      const ctx = await prepare(s, seen, { source, sink, indexes }, stats, env, rejected)
      target = ctx.target
      checkpoint = ctx.checkpoint
      partitions = checkpoint.partitions
      progress = env.progress(s.targetTable, stats, logger, s.progressInterval)
      await runPartitions(ctx, { source, sink }, strategyFor(s.strategy).concurrency(s), logger)
      stats.end()
      progress.stop()
      logger.info(`loaded: ${progressLine(stats)}`)
      if (stats.workers.length > 1) logger.info(`rows per worker: ${stats.workers.join(', ')}`)
      await indexes.restore()
      await runStep('after', s.after, sink, logger, s.targetTable)
    }
    if (s.validate !== false || env.validateOnly) {
      validation = await validate(s, { keys: seen.keys, source, sink, target, partitions, stats, rejected }, logger)
      if (env.validateOnly) stats.total = validation.sourceCount
    }
    status = validation?.passed === false ? 'VALIDATION_FAILED' : 'SUCCESS'
    // Removed only now: a run killed during validation resumes straight to validating.
    await checkpoint?.remove()
  } catch (err) {
    error = err instanceof Error ? err : new Error(String(err))
    if (indexes && !env.validateOnly) error = await indexes.afterFailure(error)
    logger.error(error.message)
  } finally {
    progress.stop()
    stats.end()
    await Promise.allSettled([opened.source?.close(), opened.sink?.close()])
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

const keyNames = (names: readonly string[]) => (names.length === 1 ? `\`${names[0]}\`` : `(${names.map((n) => `\`${n}\``).join(', ')})`)

const read = (s: ResolvedSettings, keys: Keys) => ({ table: s.sourceTable, key: keys.source, filter: s.where })

/**
 * The target as the run writes it: the columns the transform's rows carry (typed as the target
 * declares them), keyed on the target key.
 */
function writeTarget(keys: Keys, target: TableSchema, seen: Inspection): WriteTarget {
  const carried = new Set(seen.inferred.columns.map((c) => c.name))
  return { table: target.table, columns: target.columns.filter((c) => carried.has(c.name)), key: keys.target }
}

/** Everything before the first write: checkpoint, target preparation, before step. */
async function prepare(
  s: ResolvedSettings,
  seen: Inspection,
  { source, sink, indexes }: { source: Source; sink: Sink; indexes: DeferredIndexes },
  stats: Stats,
  env: TableEnv,
  rejected: Set<string>,
): Promise<RunContext> {
  const { logger } = env
  stats.total = seen.total
  const hash = checkpointHash(s, seen.keys)
  let state = s.resume ? await loadCheckpoint(s.checkpointFile) : undefined
  if (state && state.settingsHash !== hash) {
    throw new CheckpointError(
      `checkpoint \`${s.checkpointFile}\` was written by other settings (table, key, filter, transform or databases changed); run without --resume to start over, or restore the settings`,
    )
  }
  if (s.resume && !state) logger.warn(`no checkpoint at ${s.checkpointFile}; starting from the beginning`)
  await indexes.atStart(state !== undefined)
  let schema: TableSchema
  let planWritten = state !== undefined
  if (state) {
    schema = await existingTarget(sink, s)
    stats.restore(state.counts)
    logger.info(resumeLine(s, state, stats))
  } else {
    await runStep('before', s.before, sink, logger, s.targetTable)
    schema = await sink.prepare({ table: s.targetTable, schema: seen.target, mode: s.writeMode })
    await indexes.defer()
    state = await freshState(s, seen, source, hash)
    planWritten = false
    logger.info(`${stats.total} rows in ${state.partitions.length} chunk(s); target \`${s.targetTable}\` prepared (${s.writeMode})`)
  }
  const checkpoint = new Checkpoint(state, {
    file: s.checkpointFile,
    interval: s.checkpointInterval,
    enabled: s.checkpoints,
    planWritten,
  })
  await checkpoint.save()
  const target = writeTarget(seen.keys, schema, seen)
  return { settings: s, keys: seen.keys, target, stats, checkpoint, onRejected: rejectHandler(s, target, stats, env, rejected) }
}

function checkpointHash(s: ResolvedSettings, keys: Keys): string {
  return settingsHash({
    source: describeEndpoint(s.source),
    target: describeEndpoint(s.target),
    sourceTable: s.sourceTable,
    targetTable: s.targetTable,
    primaryKey: keys.source,
    targetKey: keys.target,
    where: s.where ?? null,
    transform: s.transform?.toString() ?? null,
  })
}

function resumeLine(s: ResolvedSettings, state: CheckpointState, stats: Stats): string {
  const positions = [...state.open.values()].flatMap((p) => (p.position === undefined ? [] : [JSON.stringify(p.position)]))
  return `resuming from ${s.checkpointFile}: ${state.done.size}/${state.partitions.length} chunks done, ${stats.done} rows done, open at ${positions.join(', ') || 'their start'}`
}

function rejectHandler(s: ResolvedSettings, target: WriteTarget, stats: Stats, env: TableEnv, rejected: Set<string>): RunContext['onRejected'] {
  const keyColumns = target.key.map((k) => target.columns.find((c) => c.name === k)!)
  return async (row, err) => {
    const key = keyOf(row, target.key)
    const skip = s.onRejectedRow === 'skip'
    stats.addError({ message: messageOf(err), rows: 1, attempt: 1, resolved: skip, kind: 'rejected', key: keyText(key) })
    if (!skip) throw new RowRejectedError(s.targetTable, keyText(key), err)
    rejected.add(keyId(key, keyColumns))
    env.logger.warn(`row with key ${keyText(key)} rejected by \`${s.targetTable}\`: ${messageOf(err)}`)
    await env.rejected.add(key.length === 1 ? key[0] : key, err, row)
  }
}

async function existingTarget(sink: Sink, s: ResolvedSettings): Promise<TableSchema> {
  const target = await sink.describe(s.targetTable)
  if (!target) throw new MissingTableError(s.targetTable, `the target \`${describeEndpoint(s.target)}\``)
  return target
}

async function freshState(
  s: ResolvedSettings,
  seen: Inspection,
  source: Source,
  hash: string,
): Promise<CheckpointState> {
  return {
    pipeline: s.name,
    table: s.sourceTable,
    settingsHash: hash,
    partitions: await strategyFor(s.strategy).plan(source, read(s, seen.keys), s),
    done: new Set(),
    open: new Map(),
    counts: { migrated: 0, failed: 0, skipped: 0, filtered: 0 },
  }
}

async function validate(
  s: ResolvedSettings,
  run: {
    keys: Keys
    source: Source
    sink: Sink
    target: WriteTarget
    partitions: readonly Json[]
    stats: Stats
    rejected: ReadonlySet<string>
  },
  logger: Logger,
): Promise<ValidationResult> {
  const result = await validateRun({
    settings: s,
    keys: run.keys,
    source: run.source,
    sink: run.sink,
    target: run.target,
    partitions: run.partitions,
    filtered: run.stats.filtered,
    rejected: run.rejected,
    targetReader: () => openTargetAsSource(s.target),
  })
  const line = `validation (${result.mode}): source ${result.sourceCount}, expected ${result.expectedCount}, target ${result.targetCount}`
  if (result.passed) logger.info(`${line}: passed`)
  else {
    const keys =
      result.mode === 'checksum'
        ? `${unread(result)} in ${result.mismatchedPartitions?.length ?? 0} chunk(s); missing keys ${result.missingKeys?.join(', ') || '-'}; extra ${result.extraKeys?.join(', ') || '-'}; differing ${result.differingKeys?.join(', ') || '-'}${columnsLine(result)}`
        : ''
    logger.error({ mismatchedPartitions: result.mismatchedPartitions }, `${line}: FAILED${keys}`)
  }
  return result
}

function unread(result: ValidationResult): string {
  const read = result.sourceRowsRead
  return read !== undefined && read !== result.sourceCount ? `; the comparison read ${read} of the ${result.sourceCount} source rows` : ''
}

function columnsLine(result: ValidationResult): string {
  const columns = Object.entries(result.differingColumns ?? {})
  return columns.length ? ` (in ${columns.map(([c, n]) => `\`${c}\` ${n}×`).join(', ')})` : ''
}
