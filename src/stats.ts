/** One failure during a run: a write attempt that failed, or a row the target rejected. */
export interface RunError {
  readonly time: string
  readonly message: string
  /** Rows in the batch that failed (1 for a rejected row). */
  readonly rows: number
  readonly attempt: number
  /** True once a later attempt wrote the rows, or the row was set aside as the settings allow. */
  resolved: boolean
  readonly kind: 'transient' | 'rejected' | 'fatal'
  readonly key?: string
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
  readonly errors: RunError[] = []
  readonly workers: number[] = []
  #ended?: number
  /** Rows done by the run a resume continues, left out of this run's rate. */
  #restored = 0

  get done(): number {
    return this.migrated + this.failed + this.skipped
  }

  counts(): Counts {
    return {
      migrated: this.migrated,
      failed: this.failed,
      skipped: this.skipped,
      filtered: this.filtered,
    }
  }

  restore(counts: Counts): void {
    this.migrated = counts.migrated
    this.failed = counts.failed
    this.skipped = counts.skipped
    this.filtered = counts.filtered
    this.#restored = this.done
  }

  addError(error: Omit<RunError, 'time'>): RunError {
    const entry = { time: new Date().toISOString(), ...error }
    this.errors.push(entry)
    return entry
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
      errors: this.errors.map((e) => ({ ...e })),
      workers: [...this.workers],
    }
  }
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000
}
