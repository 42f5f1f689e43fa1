/**
 * What failed during a run, one entry per kind and cause (not per row, so that a table with a
 * million refused rows still has a small report):
 * - `transient`: write or read attempts that failed and were retried (a read's message starts with
 *   `source read: `); `resolved` of them succeeded later.
 * - `rejected`: rows the target refused; `resolved` of them were set aside as the pipeline allows.
 * - `split`: batches the target refused, split in halves to find the rows it refuses.
 */
export interface RunError {
  readonly kind: 'transient' | 'rejected' | 'split'
  /** The first occurrence's message. */
  readonly message: string
  /** Occurrences: failed attempts, refused rows, or split batches. */
  count: number
  /** Of the occurrences, those resolved: retried with success, or rows set aside as allowed. */
  resolved: number
  /** Rows involved, over all occurrences. */
  rows: number
  readonly firstTime: string
  lastTime: string
  /** Keys of the first rows involved (up to 10). */
  readonly sampleKeys: string[]
}

/** One occurrence, as `Stats.addError` takes it. */
export interface ErrorEvent {
  readonly kind: RunError['kind']
  readonly message: string
  readonly rows: number
  readonly resolved: boolean
  readonly key?: string
}

const sampleKeys = 10

/** A cause without the values that differ from row to row (numbers, quoted text). */
function causeOf(kind: string, message: string): string {
  return `${kind}\0${message.replace(/'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\b\d+(?:\.\d+)?\b/g, '?')}`
}

/** What a run did, as returned by the API and written in the report. */
export interface MigrationStats {
  /** Rows in the source under the filter when the run started. */
  total: number
  migrated: number
  /** Rows the target rejected (set aside with `onRejectedRow: 'skip'`). */
  failed: number
  /** Rows not written: dropped by the transform, or already in the target with `skipExisting`. */
  skipped: number
  /** Of the skipped rows, those the transform dropped. */
  filtered: number
  startTime: string
  endTime?: string
  elapsedSeconds: number
  averageRate: number
  errors: RunError[]
  /** Rows each worker wrote, by worker number. */
  workers: number[]
}

/** Counts carried across a resume in the checkpoint. */
export interface Counts {
  migrated: number
  failed: number
  skipped: number
  filtered: number
}

export class Stats {
  readonly started = Date.now()
  total = 0
  migrated = 0
  failed = 0
  skipped = 0
  filtered = 0
  readonly #errors = new Map<string, RunError>()
  readonly workers: number[] = []
  #ended?: number
  /** Rows done by the run a resume continues, left out of this run's rate. */
  #restored = 0

  get done(): number {
    return this.migrated + this.failed + this.skipped
  }

  /** Adds a committed batch's rows, written by `worker`. */
  committed(counts: Counts, worker: number): void {
    this.migrated += counts.migrated
    this.failed += counts.failed
    this.skipped += counts.skipped
    this.filtered += counts.filtered
    this.workers[worker] = (this.workers[worker] ?? 0) + counts.migrated
  }

  restore(counts: Counts): void {
    this.migrated = counts.migrated
    this.failed = counts.failed
    this.skipped = counts.skipped
    this.filtered = counts.filtered
    this.#restored = this.done
  }

  /** Counts an occurrence under its cause; returns the entry, whose `resolved` may grow later. */
  addError(event: ErrorEvent): RunError {
    const cause = causeOf(event.kind, event.message)
    const now = new Date().toISOString()
    let entry = this.#errors.get(cause)
    if (!entry) {
      entry = { kind: event.kind, message: event.message, count: 0, resolved: 0, rows: 0, firstTime: now, lastTime: now, sampleKeys: [] }
      this.#errors.set(cause, entry)
    }
    entry.count += 1
    entry.rows += event.rows
    entry.lastTime = now
    if (event.resolved) entry.resolved += 1
    if (event.key !== undefined && entry.sampleKeys.length < sampleKeys && !entry.sampleKeys.includes(event.key)) entry.sampleKeys.push(event.key)
    return entry
  }

  get errors(): RunError[] {
    return [...this.#errors.values()]
  }

  end(): void {
    this.#ended ??= Date.now()
  }

  /** Rows per second since the run started. */
  rate(now = this.#ended ?? Date.now()): number {
    const seconds = (now - this.started) / 1000
    return seconds > 0 ? (this.done - this.#restored) / seconds : 0
  }

  snapshot(): MigrationStats {
    const end = this.#ended ?? Date.now()
    return {
      total: this.total,
      migrated: this.migrated,
      failed: this.failed,
      skipped: this.skipped,
      filtered: this.filtered,
      startTime: new Date(this.started).toISOString(),
      ...(this.#ended !== undefined && { endTime: new Date(this.#ended).toISOString() }),
      elapsedSeconds: round((end - this.started) / 1000),
      averageRate: Math.round(this.rate(end)),
      errors: this.errors.map((e) => ({ ...e, sampleKeys: [...e.sampleKeys] })),
      workers: [...this.workers],
    }
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000
}
