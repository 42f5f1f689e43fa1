import { keyId } from './canonical.js'
import type { ResolvedSettings } from './config.js'
import { FerryError, messageOf, RowRejectedError } from './errors.js'
import { keyOf, keyText } from './keys.js'
import type { Logger } from './log.js'
import { rejectedKeys, type RejectedRows } from './rejected.js'
import type { WriteTarget } from './sink.js'
import type { Stats } from './stats.js'
import type { ColumnInfo, Row } from './types.js'

/** More rows were refused than `maxRejectedRows` allows. The run failed: exit 1. */
export class RejectedLimitError extends FerryError {}

/**
 * What a table does with the rows its target refuses: stop at the first (`onRejectedRow: 'fail'`),
 * or set them aside in the rejected-rows file, up to `maxRejectedRows`. Keeps the target keys of
 * the rows set aside, by this run and the runs it resumes, so that validation expects them absent.
 */
export class TableRejects {
  /** `keyId`s of the target keys set aside. */
  readonly keys = new Set<string>()
  readonly #keyColumns: readonly ColumnInfo[]

  constructor(
    readonly settings: ResolvedSettings,
    readonly target: WriteTarget,
    readonly stats: Stats,
    readonly file: RejectedRows,
    readonly logger: Logger,
  ) {
    this.#keyColumns = target.key.map((k) => target.columns.find((c) => c.name === k)!)
  }

  /** Whether the pipeline accepts refused rows: it sets `maxRejectedRows`. */
  get allowed(): boolean {
    return this.settings.maxRejectedRows !== undefined
  }

  /** Rows that may be set aside: a count, or a fraction of the source rows under the filter. */
  get limit(): number {
    const max = this.settings.maxRejectedRows
    if (max === undefined) return Infinity
    return max < 1 ? Math.floor(max * this.stats.total) : max
  }

  /** Counts a refused row; sets it aside, or throws when the pipeline does not allow it. */
  readonly rejected = async (row: Row, err: unknown): Promise<void> => {
    const s = this.settings
    const key = keyOf(row, this.target.key)
    const skip = s.onRejectedRow === 'skip'
    this.stats.addError({ kind: 'rejected', message: messageOf(err), rows: 1, resolved: skip, key: keyText(key) })
    if (!skip) throw new RowRejectedError(s.targetTable, keyText(key), err)
    this.keys.add(keyId(key, this.#keyColumns))
    this.logger.debug(`row with key ${keyText(key)} rejected by \`${s.targetTable}\`: ${messageOf(err)}`)
    await this.file.add(s.targetTable, key.length === 1 ? key[0] : key, err, row)
    if (this.keys.size > this.limit) {
      const allowed = s.maxRejectedRows! < 1 ? `${s.maxRejectedRows! * 100}% of ${this.stats.total} rows, ${this.limit}` : `${this.limit}`
      throw new RejectedLimitError(
        `target \`${s.targetTable}\` refused ${this.keys.size} rows, more than \`maxRejectedRows\` allows (${allowed}); the last, key ${keyText(key)}: ${messageOf(err)}; the refused rows are in ${this.file.file}`,
      )
    }
  }

  /** A batch the target refused as a whole is about to be split: said at info level, counted by cause. */
  readonly split = (rows: readonly Row[], err: unknown): void => {
    const first = keyText(keyOf(rows[0]!, this.target.key))
    const last = keyText(keyOf(rows[rows.length - 1]!, this.target.key))
    this.stats.addError({ kind: 'split', message: messageOf(err), rows: rows.length, resolved: true, key: first })
    this.logger.info(`\`${this.settings.targetTable}\` refused a batch of ${rows.length} rows (keys ${first} … ${last}): ${messageOf(err)}; splitting it to find the rows it refuses`)
  }

  readonly splitDone = (rows: readonly Row[], refused: number): void => {
    this.logger.info(`split batch of ${rows.length} rows written: ${rows.length - refused} loaded, ${refused} refused`)
  }

  /** The keys set aside by earlier runs of this table, from their rejected-rows files. */
  async load(files: readonly string[]): Promise<void> {
    for (const file of files) {
      for await (const key of rejectedKeys(file, this.settings.targetTable)) {
        const tuple = this.target.key.length === 1 ? [key] : (key as unknown[])
        this.keys.add(keyId(tuple, this.#keyColumns))
      }
    }
  }
}
