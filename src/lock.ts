import { link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { basename, dirname } from 'node:path'
import { literally, processAlive, removeDeadProcessFiles } from './dead-files.js'
import { CheckpointWriteError, FerryError, messageOf } from './errors.js'

/** Another run holds the lock of this pipeline's table. Refused before anything moved: exit 2. */
export class LockedError extends FerryError {}

/** Who holds a lock, as its file says. */
export interface LockHolder {
  readonly pid: number
  readonly host: string
  readonly startedAt: string
  readonly pipeline: string
  readonly table: string
}

/** The lock file of a checkpoint file: `.ferry/checkpoints/users.json` → `users.lock`. */
export const lockFileOf = (checkpointFile: string): string => checkpointFile.replace(/(\.json)?$/, '.lock')

/**
 * Takes the lock of one pipeline's table, so that a second run of it is refused instead of
 * truncating or duplicating under the first: a file created atomically (a hard link of a complete
 * temp file) that names its holder. A lock whose holder was a process of this host that is gone
 * (killed) is stale and taken over. Returns the function that releases it.
 */
export async function takeLock(file: string, holder: Omit<LockHolder, 'pid' | 'host' | 'startedAt'>): Promise<() => Promise<void>> {
  const mine: LockHolder = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), ...holder }
  const temp = `${file}.${process.pid}.tmp`
  try {
    await mkdir(dirname(file), { recursive: true })
    await removeDeadTemps(file)
    await writeFile(temp, JSON.stringify(mine))
  } catch (err) {
    throw new CheckpointWriteError(`cannot write \`${temp}\`: ${messageOf(err)}`, { cause: err })
  }
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temp, file)
        return () => release(file)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const other = await holderOf(file)
      if (other && (other.host !== mine.host || processAlive(other.pid))) throw lockedBy(file, other)
      // Stale: moved aside atomically, so that of two runs taking it over only one succeeds.
      if (attempt > 2) throw lockedBy(file, other)
      await rename(file, `${file}.stale-${process.pid}`).then(
        () => rm(`${file}.stale-${process.pid}`, { force: true }),
        () => undefined,
      )
    }
  } finally {
    await rm(temp, { force: true })
  }
}

/** Files of lock takers killed before they removed theirs: `<lock>.<pid>.tmp`, `<lock>.stale-<pid>`. */
async function removeDeadTemps(file: string): Promise<void> {
  await removeDeadProcessFiles(dirname(file), new RegExp(`^${literally(basename(file))}\\.(?:(\\d+)\\.tmp|stale-(\\d+))$`))
}

async function release(file: string): Promise<void> {
  const holder = await holderOf(file)
  if (holder?.pid === process.pid && holder.host === hostname()) await rm(file, { force: true })
}

async function holderOf(file: string): Promise<LockHolder | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LockHolder
  } catch {
    return undefined
  }
}

function lockedBy(file: string, holder: LockHolder | undefined): LockedError {
  const who = holder ? `pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}` : 'another run'
  return new LockedError(
    `pipeline \`${holder?.pipeline ?? '?'}\` table \`${holder?.table ?? '?'}\` is being run by ${who} (lock ${file}); wait for it to end, or if that run is gone, delete the lock file`,
  )
}
