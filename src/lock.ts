import { link, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { basename, dirname, join } from 'node:path'
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
      if (other && (other.host !== mine.host || alive(other.pid))) throw lockedBy(file, other)
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
  const left = new RegExp(`^${basename(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(?:(\\d+)\\.tmp|stale-(\\d+))$`)
  for (const name of await readdir(dirname(file))) {
    const pid = Number(left.exec(name)?.slice(1).find(Boolean))
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) await rm(join(dirname(file), name), { force: true })
  }
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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function lockedBy(file: string, holder: LockHolder | undefined): LockedError {
  const who = holder ? `pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}` : 'another run'
  return new LockedError(
    `pipeline \`${holder?.pipeline ?? '?'}\` table \`${holder?.table ?? '?'}\` is being run by ${who} (lock ${file}); wait for it to end, or if that run is gone, delete the lock file`,
  )
}
