import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { CheckpointError, CheckpointWriteError, messageOf } from './errors.js'
import { faultPoint } from './faults.js'
import type { Counts } from './stats.js'
import type { Json } from './types.js'

// A checkpoint on disk: the state file and, beside it, the plan (`<name>.plan.json`), written once.
// Every write is atomic (temp file, fsync, rename, fsync of the folder).

/**
 * An unfinished partition as a checkpoint file records it: the position after its last committed
 * batch (none before the first), and its lease: how many source rows past that position the target
 * may hold. A resume replays that many rows with upserts before it goes back to plain inserts.
 */
export interface OpenPartition {
  readonly position?: Json
  readonly lease: number
}

/** What a checkpoint holds: the plan, what is done, where each open partition stands. */
export interface CheckpointState {
  /** Pairs the state file with its plan: a plan of another run is never taken for this one's. */
  readonly runId: string
  readonly pipeline: string
  readonly table: string
  readonly settingsHash: string
  /** The partitions as the source cut them, in order; written once, in a file of its own. */
  readonly partitions: readonly Json[]
  /** Indexes of the partitions done. */
  readonly done: ReadonlySet<number>
  /** The unfinished partitions that were started, by index. */
  readonly open: ReadonlyMap<number, OpenPartition>
  readonly counts: Counts
  readonly updatedAt?: string
  /** The rejected-rows files of the runs this one continues: their rows are not expected in the target. */
  readonly rejectedFiles?: readonly string[]
}

export const planFile = (file: string): string => file.replace(/(\.json)?$/, '.plan.json')

export function planText(runId: string, settingsHash: string, partitions: readonly Json[]): string {
  return JSON.stringify({ version: 2, runId, settingsHash, partitions })
}

/**
 * Removes a checkpoint and its plan, durably, before a fresh run touches the target: a resume
 * must never pair an old checkpoint with a target that a later run emptied.
 */
export async function discardCheckpoint(file: string): Promise<void> {
  const existed = (await Promise.all([rm(file), rm(planFile(file))].map((p) => p.then(() => true, () => false)))).some(Boolean)
  if (!existed) return
  const folder = await open(dirname(file), 'r')
  try {
    await folder.sync()
  } finally {
    await folder.close()
  }
}

/** Temp file, fsync, rename, fsync of the folder; `fault` names the kill tests' crash point halfway. */
/**
 * Writes `file` atomically: a temp file, fsync, rename, fsync of the folder. A failure names the
 * file: "ENOSPC" alone does not say which disk is full.
 */
export async function writeAtomically(file: string, text: string, fault = 'checkpoint-write'): Promise<void> {
  try {
    await writeThrough(file, text, fault)
  } catch (err) {
    throw new CheckpointWriteError(`cannot write \`${file}\`: ${messageOf(err)}`, { cause: err })
  }
}

async function writeThrough(file: string, text: string, fault: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true })
  const temp = `${file}.tmp-${process.pid}`
  const handle = await open(temp, 'w')
  try {
    await handle.writeFile(text)
    faultPoint(fault)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temp, file)
  const folder = await open(dirname(file), 'r')
  try {
    await folder.sync()
  } finally {
    await folder.close()
  }
}

/** Reads a checkpoint and its plan; undefined when there is none. Temp files of killed runs are removed. */
export async function loadCheckpoint(file: string): Promise<CheckpointState | undefined> {
  await removeStaleTemps(file)
  const text = await readIfThere(file)
  if (text === undefined) return undefined
  try {
    const planText = await readIfThere(planFile(file))
    if (planText === undefined) throw new Error(`its plan \`${planFile(file)}\` is missing`)
    return parseState(text, planText, `its plan \`${planFile(file)}\``)
  } catch (err) {
    throw new CheckpointError(`checkpoint \`${file}\` cannot be read: ${messageOf(err)}; run without --resume to start over`)
  }
}

/**
 * A checkpoint's state from its text and its plan's (as `Checkpoint.save` writes them, to a file
 * or elsewhere); throws when they do not belong together. `planName` names the plan in the error.
 */
export function parseState(text: string, planText: string, planName = 'its plan'): CheckpointState {
  const raw = JSON.parse(text) as {
    version?: number
    runId?: string
    pipeline: string
    table: string
    settingsHash: string
    updatedAt?: string
    counts: Counts
    rejectedFiles?: string[]
    partitions: number
    done: [number, number][]
    open: { i: number; position?: Json; lease: number }[]
  }
  if (raw.version !== 2) throw new Error(`version ${String(raw.version)} is not this ferry's checkpoint format (2)`)
  const plan = JSON.parse(planText) as { runId?: string; settingsHash: string; partitions: Json[] }
  if (plan.runId !== raw.runId || plan.settingsHash !== raw.settingsHash || plan.partitions.length !== raw.partitions) {
    throw new Error(`${planName} belongs to another run`)
  }
  const done = new Set<number>()
  for (const [from, to] of raw.done) for (let i = from; i <= to; i++) done.add(i)
  return {
    runId: raw.runId ?? '',
    pipeline: raw.pipeline,
    table: raw.table,
    settingsHash: raw.settingsHash,
    partitions: plan.partitions,
    done,
    open: new Map(raw.open.map((o) => [o.i, { ...(o.position !== undefined && { position: o.position }), lease: o.lease }])),
    counts: raw.counts,
    ...(raw.updatedAt && { updatedAt: raw.updatedAt }),
    ...(raw.rejectedFiles && { rejectedFiles: raw.rejectedFiles }),
  }
}

/** A file's text, or undefined when there is no such file. */
export async function readIfThere(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

async function removeStaleTemps(file: string): Promise<void> {
  const prefixes = [`${basename(file)}.tmp-`, `${basename(planFile(file))}.tmp-`]
  const names = await readdir(dirname(file)).catch(() => [] as string[])
  await Promise.all(
    names.filter((n) => prefixes.some((p) => n.startsWith(p))).map((n) => rm(join(dirname(file), n), { force: true })),
  )
}
