import { createHash } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { type CheckpointState, planFile, planText, writeAtomically } from './checkpoint-file.js'
import { DoneRuns } from './done-runs.js'
import type { Counts } from './stats.js'
import type { Json } from './types.js'

/** A short digest of the settings that change which rows a run writes where. */
export function settingsHash(parts: Record<string, unknown>): string {
  const text = JSON.stringify(parts, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))
  return createHash('sha256').update(text).digest('hex').slice(0, 16)
}

/**
 * Where a checkpoint is kept: a file beside its plan (`fileStore`), or a distributed range's job.
 * `write` resolves once the text is durable; the plan comes with the first write only.
 */
export interface CheckpointStore {
  write(state: string, plan: string | undefined): Promise<void>
  remove(): Promise<void>
  /**
   * Throws when this process may no longer write the partitions (a distributed range whose job
   * lock another worker now holds); called before every commit.
   */
  check?(): Promise<void>
}

/** The checkpoint file and, beside it, its plan: each written atomically. */
export function fileStore(file: string): CheckpointStore {
  return {
    write: async (state, plan) => {
      if (plan !== undefined) await writeAtomically(planFile(file), plan)
      await writeAtomically(file, state)
    },
    remove: async () => {
      await rm(file, { force: true })
      await rm(planFile(file), { force: true })
    },
  }
}

interface Partition {
  position?: Json
  /** Source rows committed by this process. */
  committed: number
  /** The lease new commits are held to; grows for a batch larger than the checkpoint interval. */
  lease: number
  /** Rows a crashed run may have committed past `position` that a replay has not passed yet. */
  replayLeft: number
  /** What the newest durable save recorded: committed rows at its snapshot, and the lease. */
  durable?: { committed: number; lease: number }
}

/**
 * A run's progress, in memory and on disk. The core never compares positions: it bounds instead
 * how far the target can be ahead of the file. Before a batch is committed, `beforeCommit` makes
 * sure the newest durable save grants the partition a lease covering it (saving first when not),
 * so after a crash the rows past a saved position are at most its lease, which a resume replays
 * with upserts. A save writes the open partitions and the done ones as runs of indexes: its cost
 * does not grow with finished work; the plan is written once beside it.
 */
export class Checkpoint {
  readonly #store: CheckpointStore
  readonly #interval: number
  readonly #enabled: boolean
  readonly #partitions: readonly Json[]
  readonly #open = new Map<number, Partition>()
  readonly #done: DoneRuns
  #counts: Counts
  #saving: Promise<void> = Promise.resolve()
  #planWritten: boolean
  readonly #meta: {
    runId: string
    pipeline: string
    table: string
    settingsHash: string
    rejectedFiles?: readonly string[]
  }

  constructor(
    state: CheckpointState,
    options: ({ file: string } | { store: CheckpointStore }) & { interval: number; enabled: boolean; planWritten?: boolean },
  ) {
    this.#store = 'store' in options ? options.store : fileStore(options.file)
    this.#interval = options.interval
    this.#enabled = options.enabled
    this.#planWritten = options.planWritten ?? false
    this.#partitions = state.partitions
    this.#counts = { ...state.counts }
    this.#meta = {
      runId: state.runId,
      pipeline: state.pipeline,
      table: state.table,
      settingsHash: state.settingsHash,
      ...(state.rejectedFiles && { rejectedFiles: state.rejectedFiles }),
    }
    this.#done = new DoneRuns(state.done)
    for (const [i, open] of state.open) {
      this.#open.set(i, {
        ...(open.position !== undefined && { position: open.position }),
        committed: 0,
        lease: this.#interval,
        replayLeft: open.lease,
        durable: { committed: 0, lease: open.lease },
      })
    }
  }

  /** The run this checkpoint belongs to, the same across resumes (a distributed run's job ids derive from it). */
  get runId(): string {
    return this.#meta.runId
  }

  get settingsHash(): string {
    return this.#meta.settingsHash
  }

  get partitions(): readonly Json[] {
    return this.#partitions
  }

  get rejectedFiles(): readonly string[] {
    return this.#meta.rejectedFiles ?? []
  }

  /** Records (with the next save) that rows of this run were set aside in `file`. */
  keepRejectedFile(file: string): void {
    if (!this.rejectedFiles.includes(file)) this.#meta.rejectedFiles = [...this.rejectedFiles, file]
  }

  get doneCount(): number {
    return this.#done.size
  }

  isDone(index: number): boolean {
    return this.#done.has(index)
  }

  /** Where a partition's next read starts: undefined for its beginning. */
  position(index: number): Json | undefined {
    return this.#open.get(index)?.position
  }

  /** Whether the partition's next batch must be an upsert: a crashed run may have written it. */
  replaying(index: number): boolean {
    return (this.#open.get(index)?.replayLeft ?? 0) > 0
  }

  /** Waits until a durable save covers `sourceRows` more committed rows of the partition. */
  async beforeCommit(index: number, sourceRows: number): Promise<void> {
    await this.#store.check?.()
    if (!this.#enabled) return
    const p = this.#partition(index)
    const unsaved = p.committed - (p.durable?.committed ?? 0)
    if (p.durable && unsaved + sourceRows <= p.durable.lease) return
    p.lease = Math.max(p.lease, sourceRows)
    await this.save()
  }

  /**
   * Records a committed batch: the partition now stands at `position`, and the counts the file
   * keeps (those of the batches its positions cover) grow by the batch's.
   */
  committed(index: number, position: Json, sourceRows: number, counts: Counts): void {
    const p = this.#partition(index)
    p.position = position
    p.committed += sourceRows
    p.replayLeft = Math.max(0, p.replayLeft - sourceRows)
    this.#counts.migrated += counts.migrated
    this.#counts.failed += counts.failed
    this.#counts.skipped += counts.skipped
    this.#counts.filtered += counts.filtered
  }

  async complete(index: number): Promise<void> {
    this.#open.delete(index)
    this.#done.add(index)
    await this.save()
  }

  #partition(index: number): Partition {
    let p = this.#open.get(index)
    if (!p) {
      p = { committed: 0, lease: this.#interval, replayLeft: 0 }
      this.#open.set(index, p)
    }
    return p
  }

  /**
   * Writes the file atomically (temp file, fsync, rename, fsync of the folder); saves run one at a
   * time, in order. A partition's durable lease moves only once the file holding it is on disk.
   */
  save(): Promise<void> {
    if (!this.#enabled) return Promise.resolve()
    const snapshot = [...this.#open].map(([i, p]) => ({ i, p, committed: p.committed, lease: Math.max(p.lease, p.replayLeft) }))
    const text = this.#serialize(snapshot)
    const writePlan = !this.#planWritten
    this.#planWritten = true
    this.#saving = this.#saving.then(async () => {
      await this.#store.write(text, writePlan ? planText(this.#meta.runId, this.#meta.settingsHash, this.#partitions) : undefined)
      for (const s of snapshot) s.p.durable = { committed: s.committed, lease: s.lease }
    })
    return this.#saving
  }

  #serialize(snapshot: { i: number; p: Partition; lease: number }[]): string {
    return JSON.stringify({
      version: 2,
      ...this.#meta,
      updatedAt: new Date().toISOString(),
      counts: this.#counts,
      partitions: this.#partitions.length,
      partitionsDone: this.doneCount,
      done: this.#done.runs(),
      open: snapshot.map(({ i, p, lease }) => ({ i, ...(p.position !== undefined && { position: p.position }), lease })),
    })
  }

  async remove(): Promise<void> {
    await this.#saving
    if (!this.#enabled) return
    await this.#store.remove()
  }
}

export { type CheckpointState, discardCheckpoint, loadCheckpoint, type OpenPartition, parseState, writeAtomically } from './checkpoint-file.js'
