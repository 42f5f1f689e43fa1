import { readdir, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { readIfThere } from './checkpoint-file.js'
import { writeAtomically } from './checkpoint.js'
import type { ResolvedSettings } from './config.js'
import { describeEndpoint } from './engines/registry.js'
import { FerryError, messageOf } from './errors.js'
import type { Logger } from './log.js'
import type { IndexDefinition, Sink } from './sink.js'

/** Indexes that `deferIndexes` dropped and that are not back; the message names each. */
export class DeferredIndexError extends FerryError {}

/** Where a table's dropped indexes are kept: `<checkpoint>.indexes.json`, beside the checkpoint. */
export const indexesFile = (checkpointFile: string): string => checkpointFile.replace(/(\.json)?$/, '.indexes.json')

interface Saved {
  readonly version: 1
  /** The target database (credentials redacted) and table the indexes belong to. */
  readonly target: string
  readonly table: string
  readonly indexes: readonly IndexDefinition[]
}

type IndexingSink = Sink & Required<Pick<Sink, 'secondaryIndexes' | 'dropIndexes' | 'createIndex'>>

const canDefer = (sink: Sink): sink is IndexingSink =>
  sink.secondaryIndexes !== undefined && sink.dropIndexes !== undefined && sink.createIndex !== undefined

/**
 * `deferIndexes` without ever losing an index. The definitions are written to a file of their own
 * (atomically, fsynced) before anything is dropped, and the file is removed only once every index
 * in it is back on the target. It is not the checkpoint: it is written with `checkpoints: false`
 * too, and a fresh run, which starts a new checkpoint, still finds it. So whatever ends a run
 * (success, failure, kill, power cut), the indexes are built again by it or by the next run of the
 * table, or named in its error.
 */
export class DeferredIndexes {
  readonly #s: ResolvedSettings
  readonly #sink: Sink
  readonly #logger: Logger
  readonly #file: string

  constructor(s: ResolvedSettings, sink: Sink, logger: Logger) {
    this.#s = s
    this.#sink = sink
    this.#logger = logger
    this.#file = indexesFile(s.checkpointFile)
  }

  /**
   * Before a run touches the target: indexes an earlier run left dropped are built now, unless this
   * run would drop them again anyway (it defers indexes and keeps the table); then they stay in the
   * file, and are built when its load ends.
   */
  async atStart(resuming: boolean): Promise<void> {
    const saved = await this.#read()
    if (!saved) return
    if (this.#s.deferIndexes && (resuming || this.#s.writeMode !== 'recreate')) {
      this.#logger.info(
        `deferIndexes: ${saved.indexes.length} index(es) of \`${saved.table}\` dropped by an earlier run (${names(saved.indexes)}) are built when this load ends; kept in ${this.#file}`,
      )
      return
    }
    await this.restore()
  }

  /**
   * On a fresh run, before the load: saves the table's secondary indexes (with any an earlier run
   * left in the file), durably, then drops them.
   */
  async defer(): Promise<void> {
    if (!this.#s.deferIndexes) return
    const sink = this.#sink
    if (!canDefer(sink)) {
      this.#logger.warn(`deferIndexes: the ${sink.engine} target keeps its indexes during the load`)
      return
    }
    const table = this.#s.targetTable
    const present = await sink.secondaryIndexes(table)
    if (present.length === 0) return
    // A definition read from the table now wins over an older one of the same name.
    const kept = ((await this.#read())?.indexes ?? []).filter((i) => !present.some((p) => p.name === i.name))
    await this.#write([...kept, ...present])
    const dropped = await sink.dropIndexes(table, present)
    if (dropped.length) {
      this.#logger.info(
        `deferIndexes: dropped ${dropped.length} secondary index(es) of \`${table}\` until the load ends (${names(dropped)}); definitions in ${this.#file}`,
      )
    }
  }

  /**
   * Builds each index of the file that the table lacks, checks that all are there, then removes
   * the file. Throws a `DeferredIndexError` naming those still missing, which stay in the file.
   */
  async restore(): Promise<void> {
    const saved = await this.#read()
    if (!saved) return
    const sink = this.#sink
    if (!canDefer(sink)) throw this.#notBack(saved.indexes, new Map(), `the ${sink.engine} target cannot build indexes`)
    const started = Date.now()
    const missing = await this.#missing(sink, saved.indexes)
    const causes = new Map<string, string>()
    for (const index of missing) {
      try {
        await sink.createIndex(index)
      } catch (err) {
        causes.set(index.name, messageOf(err))
      }
    }
    const still = await this.#missing(sink, saved.indexes)
    const built = missing.filter((i) => !still.some((s) => s.name === i.name))
    if (built.length) {
      this.#logger.info(
        `deferIndexes: built ${built.length} index(es) of \`${saved.table}\` in ${((Date.now() - started) / 1000).toFixed(2)} s (${names(built)})`,
      )
    }
    if (still.length) {
      await this.#write(still)
      throw this.#notBack(still, causes)
    }
    await rm(this.#file, { force: true })
  }

  /**
   * On the way out of a failed run: builds back what the file holds. When that fails too, the
   * run's error names the indexes still missing.
   */
  async afterFailure(error: Error): Promise<Error> {
    if (error instanceof DeferredIndexError) return error
    try {
      await this.restore()
    } catch (err) {
      // Added to the run's error rather than wrapping it: its class decides the exit code.
      error.message = `${error.message}; ${messageOf(err)}`
    }
    return error
  }

  async #missing(sink: IndexingSink, indexes: readonly IndexDefinition[]): Promise<IndexDefinition[]> {
    const present = new Set((await sink.secondaryIndexes(this.#s.targetTable)).map((i) => i.name))
    return indexes.filter((i) => !present.has(i.name))
  }

  #notBack(indexes: readonly IndexDefinition[], causes: ReadonlyMap<string, string>, why?: string): DeferredIndexError {
    const each = indexes.map((i) => {
      const cause = why ?? causes.get(i.name) ?? 'not there after its CREATE INDEX: is the name taken by another table or index?'
      return `\`${i.name}\` (${cause})`
    })
    return new DeferredIndexError(
      `deferIndexes: ${indexes.length} index(es) of \`${this.#s.targetTable}\` dropped for the load are not back: ${each.join(', ')}; their definitions stay in ${this.#file} and the next run of this table builds them`,
    )
  }

  async #read(): Promise<Saved | undefined> {
    await removeStaleTemps(this.#file)
    const text = await readIfThere(this.#file)
    if (text === undefined) return undefined
    const saved = parse(text, this.#file)
    const target = describeEndpoint(this.#s.target)
    if (saved.target !== target || saved.table !== this.#s.targetTable) {
      throw new DeferredIndexError(
        `deferIndexes: ${this.#file} holds ${saved.indexes.length} index(es) (${names(saved.indexes)}) that an earlier run dropped from \`${saved.table}\` in \`${saved.target}\`, not this run's \`${this.#s.targetTable}\` in \`${target}\`; run against that table to build them, or build them by hand and delete the file`,
      )
    }
    return saved
  }

  async #write(indexes: readonly IndexDefinition[]): Promise<void> {
    const saved: Saved = { version: 1, target: describeEndpoint(this.#s.target), table: this.#s.targetTable, indexes }
    await writeAtomically(this.#file, JSON.stringify(saved, null, 2), 'indexes-write')
  }
}

const names = (indexes: readonly IndexDefinition[]): string => indexes.map((i) => `\`${i.name}\``).join(', ')

function parse(text: string, file: string): Saved {
  try {
    const saved = JSON.parse(text) as Saved
    if (saved.version !== 1 || !Array.isArray(saved.indexes)) throw new Error(`version ${String(saved.version)} is not this ferry's format (1)`)
    return saved
  } catch (err) {
    throw new DeferredIndexError(
      `deferIndexes: ${file}, which keeps the definitions of dropped indexes, cannot be read: ${messageOf(err)}; build the indexes it lists by hand and delete it`,
    )
  }
}

/** A write killed halfway leaves its temp file; the file itself is whole or absent. */
async function removeStaleTemps(file: string): Promise<void> {
  const prefix = `${basename(file)}.tmp-`
  const names = await readdir(dirname(file)).catch(() => [] as string[])
  await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => rm(join(dirname(file), n), { force: true })))
}
