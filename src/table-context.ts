import type { WriteEvents } from '../transforms/write.js'
import type { Checkpoint } from './checkpoint.js'
import { settingsHash } from './checkpoint.js'
import type { ResolvedSettings } from './config.js'
import { describeEndpoint } from './engines/registry.js'
import { messageOf, MissingTableError } from './errors.js'
import type { Inspection } from './inspect.js'
import type { Keys } from './key-check.js'
import type { Logger } from './log.js'
import { type ReadEvents, retryDelay } from './read-retry.js'
import type { TableRejects } from './rejects.js'
import type { Sink, WriteTarget } from './sink.js'
import type { TableSchema } from './types.js'

// What a table's partitions are written with, wherever they run: in the run's own process
// (run-table.ts) or in a `ferry worker` (distributed/worker.ts).

/**
 * The target as the run writes it: the columns the transform's rows carry (typed as the target
 * declares them), keyed on the target key.
 */
export function writeTarget(keys: Keys, target: TableSchema, seen: Inspection): WriteTarget {
  const carried = new Set(seen.inferred.columns.map((c) => c.name))
  return { table: target.table, columns: target.columns.filter((c) => carried.has(c.name)), key: keys.target }
}

export function writeEvents(s: ResolvedSettings, checkpoint: Checkpoint, rejects: TableRejects, env: { logger: Logger; rejected: { file: string } }): WriteEvents {
  return {
    rejected: (row, err) => {
      checkpoint.keepRejectedFile(env.rejected.file)
      return rejects.rejected(row, err)
    },
    split: rejects.split,
    splitDone: rejects.splitDone,
    attemptFailed: (err, attempt, retriesLeft, rows) => {
      const delay = retryDelay(s, attempt) / 1000
      const next = retriesLeft > 0 ? `; retrying in ${delay} s (${retriesLeft} more ${retriesLeft === 1 ? 'try' : 'tries'})` : '; giving up'
      env.logger.warn(`write of ${rows} rows to \`${s.targetTable}\` failed (attempt ${attempt}): ${messageOf(err)}${next}`)
    },
  }
}

/** Logs a failed read attempt as a failed write's: the attempt, the cause, where it resumes, when. */
export function readFailed(s: ResolvedSettings, env: { logger: Logger }): ReadEvents['readFailed'] {
  return (err, attempt, retriesLeft, delay, position) => {
    const from = position === undefined ? 'its chunk\'s start' : `position ${JSON.stringify(position)}`
    const next = retriesLeft > 0 ? `; reading again from ${from} in ${delay < 1000 ? `${delay} ms` : `${delay / 1000} s`} (${retriesLeft} more ${retriesLeft === 1 ? 'try' : 'tries'})` : '; giving up'
    env.logger.warn(`read of \`${s.sourceTable}\` failed (attempt ${attempt}): ${messageOf(err)}${next}`)
  }
}

/** What a checkpoint (and a distributed range) is bound to: the settings that decide which rows go where. */
export function checkpointHash(s: ResolvedSettings, keys: Keys): string {
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

/** The target table, which must exist; a document store's schema is the rows' own (`Sink.documents`). */
export async function existingTarget(sink: Sink, s: ResolvedSettings, seen: Inspection): Promise<TableSchema> {
  const target = await sink.describe(s.targetTable)
  if (!target) throw new MissingTableError(s.targetTable, `the target \`${describeEndpoint(s.target)}\``)
  return sink.documents ? seen.inferred : target
}

