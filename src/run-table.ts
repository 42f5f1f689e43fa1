import { randomUUID } from 'node:crypto'
import { Checkpoint, type CheckpointState, discardCheckpoint, loadCheckpoint } from './checkpoint.js'
import type { ResolvedSettings } from './config.js'
import { DeferredIndexes } from './deferred-indexes.js'
import { describeEndpoint, openSink, openSource } from './engines/registry.js'
import { checkpointHash, existingTarget, readFailed, writeEvents, writeTarget } from './table-context.js'
import { CheckpointError, messageOf } from './errors.js'
import { inspect, type Inspection } from './inspect.js'
import { InterruptedError } from './interrupt.js'
import { LockedError, lockFileOf, takeLock } from './lock.js'
import type { Keys } from './key-check.js'
import { sameSet } from './keys.js'
import type { Logger } from './log.js'
import { decodedBecause, pathText } from './passthrough.js'
import type { RunContext } from './pipeline.js'
import { type ProgressFactory, progressLine } from './progress.js'
import type { RejectedRows } from './rejected.js'
import { TableRejects } from './rejects.js'
import type { Sink, WriteTarget } from './sink.js'
import type { Source } from './source.js'
import { Stats } from './stats.js'
import { runStep } from './steps.js'
import { strategyFor } from './strategy.js'
import { lastRejectedFiles, validateTable } from './table-validation.js'
import type { Json, TableSchema } from './types.js'
import type { TableResult, TableStatus } from './outcome.js'
import type { ValidationResult } from './validate.js'
import type { DistributedSummary, PipelineOrigin } from './distributed/job.js'

export interface TableEnv {
  readonly logger: Logger
  readonly rejected: RejectedRows
  readonly progress: ProgressFactory
  readonly validateOnly: boolean
  /** Aborted to stop at the next batch boundary. */
  readonly stop: AbortSignal
  /** The pipeline as the command line named it: what a distributed run's workers load. */
  readonly origin?: PipelineOrigin | undefined
}

/** Loads one table: plan, before step, the strategy's partitions, deferred indexes, after step, validation. */
export async function runTable(s: ResolvedSettings, env: TableEnv): Promise<TableResult> {
  const { logger } = env
  const stats = new Stats()
  const opened: { source?: Source; sink?: Sink } = {}
  let indexes: DeferredIndexes | undefined
  let unlock = async () => {}
  let validation: ValidationResult | undefined
  let distributed: DistributedSummary | undefined
  let status: TableStatus = 'FAILED'
  let error: Error | undefined
  let progress = { stop: () => {} }
  // What puts the target's load settings back (Sink.loadSettings), while they are changed.
  let loading: (() => Promise<void>) | undefined
  const endLoading = async () => {
    const restore = loading
    loading = undefined
    await restore?.()
  }
  let table: { target: WriteTarget; partitions: readonly Json[]; rejects: TableRejects; checkpoint?: Checkpoint } | undefined
  try {
    logger.info(
      `${s.sourceTable} → ${s.targetTable}: ${describeEndpoint(s.source)} → ${describeEndpoint(s.target)} (${s.strategy})`,
    )
    if (!env.validateOnly) unlock = await takeLock(lockFileOf(s.checkpointFile), { pipeline: s.name, table: s.targetTable })
    const source = (opened.source = await openSource(s.source))
    const sink = (opened.sink = await openSink(s.target, { durableCommits: s.checkpoints, ...(s.foreignKeyChecks === false && { foreignKeyChecks: false }) }))
    if (!env.validateOnly && sink.lock && !(await sink.lock(s.targetTable))) {
      throw new LockedError(`target table \`${s.targetTable}\` in \`${describeEndpoint(s.target)}\` is locked by another run (another machine's, or another pipeline writing it); wait for it to end`)
    }
    indexes = new DeferredIndexes(s, sink, logger)
    const seen = await inspect(s, source, sink)
    logger.info(`key ${keyNames(seen.keys.source)} (${seen.keys.origin}) → target key ${keyNames(seen.keys.target)}`)
    if (env.validateOnly) {
      const target = writeTarget(seen.keys, await existingTarget(sink, s, seen), seen)
      const rejects = new TableRejects(s, target, stats, env.rejected, logger)
      await rejects.load(await lastRejectedFiles(s))
      table = { target, partitions: await strategyFor('chunked').plan(source, read(s, seen.keys), s), rejects }
    } else {
      const ctx = await prepare(s, seen, { source, sink, indexes }, stats, env)
      table = { target: ctx.target, partitions: ctx.checkpoint.partitions, rejects: ctx.rejects, checkpoint: ctx.checkpoint }
      progress = env.progress(s.targetTable, stats, logger, s.progressInterval)
      loading = await sink.loadSettings?.(s.targetTable)
      distributed = (await strategyFor(s.strategy).run(ctx, { source, sink }, env)) ?? undefined
      await endLoading()
      stats.end()
      progress.stop()
      logger.info(`loaded: ${progressLine(stats)}`)
      if (stats.workers.length > 1 && !distributed) logger.info(`rows per worker: ${stats.workers.join(', ')}`)
      await indexes.restore()
      await runStep('after', s.after, sink, logger, s.targetTable)
    }
    if (s.validate !== false || env.validateOnly) {
      validation = await validateTable(
        s,
        {
          keys: seen.keys,
          source,
          sink,
          target: table.target,
          partitions: table.partitions,
          filtered: env.validateOnly ? undefined : stats.filtered,
          rejected: table.rejects.keys,
          stop: env.stop,
        },
        logger,
      )
      if (env.validateOnly) stats.total = validation.sourceCount
    }
    status = statusOf(validation, stats, table.rejects)
    if (status === 'REJECTED_ROWS') logger.error(`\`${s.targetTable}\`: ${stats.failed} row(s) refused and set aside in ${env.rejected.file}; set \`maxRejectedRows\` to accept refused rows`)
    // Removed only now: a run killed during validation resumes straight to validating.
    await table.checkpoint?.remove()
  } catch (err) {
    error = err instanceof Error ? err : new Error(String(err))
    // Added to the run's error rather than replacing it: its class decides the exit code.
    await endLoading().catch((e: unknown) => void (error!.message = `${error!.message}; restoring the target's settings after the load failed: ${messageOf(e)}`))
    // The rows of the batch that crossed the limit were refused, though the batch never finished.
    if (table) stats.failed = Math.max(stats.failed, table.rejects.keys.size)
    if (error instanceof InterruptedError) {
      // What was committed is in the checkpoint; dropped indexes are built by the resumed run.
      status = 'INTERRUPTED'
      await table?.checkpoint?.save()
      logger.warn(`\`${s.targetTable}\` ${error.message}: ${stats.migrated} rows committed, checkpoint ${s.checkpointFile} saved`)
    } else {
      if (indexes && !env.validateOnly) error = await indexes.afterFailure(error)
      logger.error(error.message)
    }
  } finally {
    progress.stop()
    stats.end()
    await Promise.allSettled([opened.source?.close(), opened.sink?.close()])
    await unlock()
  }
  return {
    sourceTable: s.sourceTable,
    targetTable: s.targetTable,
    status,
    stats: stats.snapshot(),
    ...(validation && { validation }),
    ...(distributed && { distributed }),
    ...(error && { error }),
    ...(table?.checkpoint?.rejectedFiles.length && { rejectedRowsFiles: table.checkpoint.rejectedFiles }),
  }
}

function statusOf(validation: ValidationResult | undefined, stats: Stats, rejects: TableRejects): TableStatus {
  if (validation?.passed === false) return 'VALIDATION_FAILED'
  if (stats.failed === 0) return 'SUCCESS'
  return rejects.allowed ? 'SUCCESS_WITH_REJECTS' : 'REJECTED_ROWS'
}

const keyNames = (names: readonly string[]) => (names.length === 1 ? `\`${names[0]}\`` : `(${names.map((n) => `\`${n}\``).join(', ')})`)

const read = (s: ResolvedSettings, keys: Keys) => ({ table: s.sourceTable, key: keys.source, filter: s.where })

/** Everything before the first write: checkpoint, target preparation, before step. */
async function prepare(
  s: ResolvedSettings,
  seen: Inspection,
  { source, sink, indexes }: { source: Source; sink: Sink; indexes: DeferredIndexes },
  stats: Stats,
  env: TableEnv,
): Promise<RunContext & { rejects: TableRejects }> {
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
    schema = await existingTarget(sink, s, seen)
    stats.restore(state.counts)
    logger.info(resumeLine(s, state, stats))
  } else {
    await discardCheckpoint(s.checkpointFile)
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
  const rejects = new TableRejects(s, target, stats, env.rejected, logger)
  await rejects.load(checkpoint.rejectedFiles)
  const decoded = decodedBecause(s, seen.keys, source, sink, seen.source, schema)
  logger.info(`path: ${pathText(source, decoded)}`)
  return {
    settings: s,
    keys: seen.keys,
    target,
    upsertable: schema.uniqueKeys.some((u) => sameSet(u, target.key)),
    raw: decoded === undefined,
    stats,
    checkpoint,
    rejects,
    events: { ...writeEvents(s, checkpoint, rejects, env), readFailed: readFailed(s, env) },
    stop: env.stop,
  }
}

function resumeLine(s: ResolvedSettings, state: CheckpointState, stats: Stats): string {
  const positions = [...state.open.values()].flatMap((p) => (p.position === undefined ? [] : [JSON.stringify(p.position)]))
  return `resuming from ${s.checkpointFile}: ${state.done.size}/${state.partitions.length} chunks done, ${stats.done} rows done, open at ${positions.join(', ') || 'their start'}`
}

async function freshState(
  s: ResolvedSettings,
  seen: Inspection,
  source: Source,
  hash: string,
): Promise<CheckpointState> {
  return {
    runId: randomUUID(),
    pipeline: s.name,
    table: s.sourceTable,
    settingsHash: hash,
    partitions: await strategyFor(s.strategy).plan(source, read(s, seen.keys), s),
    done: new Set(),
    open: new Map(),
    counts: { migrated: 0, failed: 0, skipped: 0, filtered: 0 },
  }
}

