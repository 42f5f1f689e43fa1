import { type Job, type JobType, Queue } from 'bullmq'
import { ConfigError } from '../errors.js'
import type { Logger } from '../log.js'
import { redactUrl } from '../redact.js'
import type { ResolvedPipeline } from '../resolve.js'
import type { ResolvedSettings } from '../config.js'
import { queueRedis, type RangeJob, type RangeProgress, type RangeResult } from './job.js'

/** BullMQ's states, as `--status` groups them. */
const groups: Record<string, readonly JobType[]> = {
  pending: ['waiting', 'delayed', 'prioritized', 'waiting-children'],
  active: ['active'],
  done: ['completed'],
  failed: ['failed'],
}

type Found = { group: string; job: Job<RangeJob, RangeResult> }

/**
 * `npm run pipeline <name> -- --status`: for each distributed table of the pipeline, its ranges on
 * the queue (pending, active, done, failed), the rows written so far, and which worker holds each
 * active range.
 */
export async function showStatus(resolved: ResolvedPipeline, logger: Logger): Promise<void> {
  const tables = resolved.tables.filter((t) => t.queue)
  if (!tables.length) throw new ConfigError(`pipeline \`${resolved.name}\` has no queue: --status shows a distributed run's ranges (set \`queue\`, or pass --queue)`)
  for (const t of tables) logger.info(await tableStatus(resolved.name, t))
}

async function tableStatus(name: string, s: ResolvedSettings): Promise<string> {
  const connection = queueRedis(s.queue!)
  const queue = new Queue<RangeJob, RangeResult>(s.queueName, { connection })
  try {
    const found: Found[] = []
    for (const [group, types] of Object.entries(groups)) {
      for (const job of await queue.getJobs([...types], 0, -1)) {
        if (job?.data?.name === name && job.data.table === s.targetTable) found.push({ group, job })
      }
    }
    return describe(s, found)
  } finally {
    await queue.close()
    // BullMQ leaves a connection it was handed open.
    connection.disconnect()
  }
}

function describe(s: ResolvedSettings, found: readonly Found[]): string {
  const where = `\`${s.targetTable}\` on queue \`${s.queueName}\` at ${redactUrl(s.queue!)}`
  if (!found.length) return `${where}: no ranges (no distributed run in progress)`
  const count = (group: string) => found.filter((f) => f.group === group).length
  const rows = found.reduce((n, { group, job }) => n + (group === 'done' ? job.returnvalue.counts.migrated : (progressOf(job)?.checkpoint.counts.migrated ?? 0)), 0)
  const lines = [`${where}: ${found.length} ranges: ${Object.keys(groups).map((g) => `${count(g)} ${g}`).join(', ')}; ${rows} rows written`]
  for (const { group, job } of [...found].sort((a, b) => a.job.data.index - b.job.data.index)) {
    const p = progressOf(job)
    if (group === 'active') lines.push(`  range ${job.data.index}: active on ${p?.worker ?? job.processedBy ?? 'a worker'}, ${p?.checkpoint.counts.migrated ?? 0} rows`)
    if (group === 'failed') lines.push(`  range ${job.data.index}: failed: ${job.failedReason}`)
  }
  return lines.join('\n')
}

const progressOf = (job: Job): RangeProgress | undefined => (typeof job.progress === 'object' && job.progress !== null ? (job.progress as unknown as RangeProgress) : undefined)
