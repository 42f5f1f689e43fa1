import { rm } from 'node:fs/promises'
import { readIfThere } from '../checkpoint-file.js'
import { writeAtomically } from '../checkpoint.js'
import { CheckpointError, messageOf } from '../errors.js'
import type { Counts } from '../stats.js'

/** Where one table of a whole-database copy stands. */
export interface TableState {
  /** `started`: its load began (its own checkpoint says how far); `done`: loaded and validated. */
  readonly state: 'started' | 'done'
  /** Whether this copy created the table (its whole schema is then checked at the end). */
  readonly created: boolean
  readonly counts?: Counts & { readonly total: number; readonly elapsedSeconds: number }
}

/**
 * A whole-database copy's progress across tables (`<pipeline>.database.json`): which tables are
 * done, and which were started, each with its own checkpoint as a one-table run has. Written
 * atomically at each table's start and end.
 */
export interface DatabaseState {
  readonly version: 1
  readonly settingsHash: string
  readonly tables: Record<string, TableState>
}

export const stateFile = (checkpointDir: string, pipeline: string): string => `${checkpointDir}/${pipeline}.database.json`

export async function readState(file: string): Promise<DatabaseState | undefined> {
  const text = await readIfThere(file)
  if (text === undefined) return undefined
  try {
    const state = JSON.parse(text) as DatabaseState
    if (state.version !== 1) throw new Error(`version ${String(state.version)} is not this ferry's format (1)`)
    return state
  } catch (err) {
    throw new CheckpointError(`checkpoint \`${file}\` cannot be read: ${messageOf(err)}; run without --resume to start over`)
  }
}

export const writeState = (file: string, state: DatabaseState): Promise<void> => writeAtomically(file, JSON.stringify(state, null, 2))

export const removeState = (file: string): Promise<void> => rm(file, { force: true })
