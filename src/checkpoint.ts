import { createHash } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'
import { CheckpointError, messageOf } from './errors.js'
import { decodeKey, encodeKey } from './keys.js'
import { faultPoint } from './faults.js'
import type { Counts } from './stats.js'
import type { Key, KeyRange } from './types.js'

/** The progress of one range: done, or committed up to `lastKey` (inclusive). */
export interface RangeProgress {
  readonly range: KeyRange
  lastKey?: Key
  done: boolean
}

/** What a checkpoint file holds, with keys decoded. */
export interface CheckpointState {
  readonly pipeline: string
  readonly table: string
  readonly settingsHash: string
  readonly ranges: RangeProgress[]
  counts: Counts
  updatedAt?: string
  /** Statements that rebuild the target indexes dropped for the load (`deferIndexes`). */
  deferredIndexes?: string[]
}

/** A short digest of the settings that change which rows a run writes where. */
export function settingsHash(parts: Record<string, unknown>): string {
  const text = JSON.stringify(parts, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))
  return createHash('sha256').update(text).digest('hex').slice(0, 16)
}

/**
 * Keeps a run's progress in memory and on disk. `advance` is called only after the sink committed
 * the rows it reports, so the file never claims more than the target holds; a killed run loses at
 * most what came after the last save, which a resume replays with upserts.
 */
export class Checkpoint {
  readonly #file: string
  readonly #interval: number
  readonly #enabled: boolean
  #sinceSave = 0
  #saving: Promise<void> = Promise.resolve()

  constructor(
    readonly state: CheckpointState,
    options: { file: string; interval: number; enabled: boolean },
  ) {
    this.#file = options.file
    this.#interval = options.interval
    this.#enabled = options.enabled
  }

  get file(): string {
    return this.#file
  }

  /** Index of the first range not done: every range below it is complete (the low-water mark). */
  get lowWaterMark(): number {
    const i = this.state.ranges.findIndex((r) => !r.done)
    return i === -1 ? this.state.ranges.length : i
  }

  /** Records committed rows of a range; saves when `interval` rows have passed since the last save. */
  async advance(index: number, lastKey: Key, rows: number, counts: Counts): Promise<void> {
    this.state.ranges[index]!.lastKey = lastKey
    this.state.counts = counts
    this.#sinceSave += rows
    if (this.#sinceSave >= this.#interval) await this.save()
  }

  async complete(index: number, counts: Counts): Promise<void> {
    this.state.ranges[index]!.done = true
    this.state.counts = counts
    await this.save()
  }

  /** Writes the file atomically: a temp file, fsync, rename, fsync of the folder. Saves run one at a time. */
  save(): Promise<void> {
    if (!this.#enabled) return Promise.resolve()
    this.#sinceSave = 0
    this.state.updatedAt = new Date().toISOString()
    const text = serialize(this.state, this.lowWaterMark)
    this.#saving = this.#saving.then(() => writeAtomically(this.#file, text))
    return this.#saving
  }

  async remove(): Promise<void> {
    await this.#saving
    if (this.#enabled) await rm(this.#file, { force: true })
  }
}

function serialize(state: CheckpointState, lowWaterMark: number): string {
  return JSON.stringify(
    {
      version: 1,
      pipeline: state.pipeline,
      table: state.table,
      settingsHash: state.settingsHash,
      updatedAt: state.updatedAt,
      counts: state.counts,
      ...(state.deferredIndexes?.length && { deferredIndexes: state.deferredIndexes }),
      chunk: lowWaterMark,
      chunks: state.ranges.length,
      lowWaterMark:
        lowWaterMark > 0 ? encodeKey(state.ranges[lowWaterMark - 1]!.range.lte) : undefined,
      ranges: state.ranges.map((r) => ({
        gt: encodeKey(r.range.gt),
        lte: encodeKey(r.range.lte),
        ...(r.done ? { done: true } : r.lastKey !== undefined && { lastKey: encodeKey(r.lastKey) }),
      })),
    },
    null,
    1,
  )
}

async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true })
  const temp = `${file}.tmp-${process.pid}`
  const handle = await open(temp, 'w')
  try {
    await handle.writeFile(text)
    faultPoint('checkpoint-write')
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

/** Reads a checkpoint; undefined when there is none. Leftover temp files of killed runs are removed. */
export async function loadCheckpoint(file: string): Promise<CheckpointState | undefined> {
  await removeStaleTemps(file)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    const raw = JSON.parse(text) as {
      pipeline: string
      table: string
      settingsHash: string
      updatedAt?: string
      counts: Counts
      deferredIndexes?: string[]
      ranges: { gt?: unknown; lte?: unknown; lastKey?: unknown; done?: boolean }[]
    }
    return {
      pipeline: raw.pipeline,
      table: raw.table,
      settingsHash: raw.settingsHash,
      counts: raw.counts,
      ...(raw.updatedAt && { updatedAt: raw.updatedAt }),
      ...(raw.deferredIndexes && { deferredIndexes: raw.deferredIndexes }),
      ranges: raw.ranges.map((r) => {
        const gt = decodeKey(r.gt)
        const lte = decodeKey(r.lte)
        const lastKey = decodeKey(r.lastKey)
        return {
          range: { ...(gt !== undefined && { gt }), ...(lte !== undefined && { lte }) },
          done: r.done === true,
          ...(lastKey !== undefined && { lastKey }),
        }
      }),
    }
  } catch (err) {
    throw new CheckpointError(`checkpoint \`${file}\` cannot be read: ${messageOf(err)}`)
  }
}

async function removeStaleTemps(file: string): Promise<void> {
  const prefix = `${basename(file)}.tmp-`
  const names = await readdir(dirname(file)).catch(() => [] as string[])
  await Promise.all(
    names.filter((n) => n.startsWith(prefix)).map((n) => rm(join(dirname(file), n), { force: true })),
  )
}
