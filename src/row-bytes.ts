import type { Row } from './types.js'

/** About how many bytes a value takes as bulk text: what `batchBytes` budgets. */
function valueBytes(v: unknown): number {
  if (v === null || v === undefined) return 2
  switch (typeof v) {
    case 'string':
      return v.length + 1
    case 'number':
    case 'bigint':
      return 9
    case 'boolean':
      return 2
  }
  if (v instanceof Uint8Array) return v.byteLength * 2 + 3
  if (v instanceof Date) return 25
  return (JSON.stringify(v)?.length ?? 8) + 1
}

export function rowBytes(row: Row): number {
  let n = 0
  for (const k in row) n += valueBytes(row[k])
  return n
}

const sample = 64

/**
 * About how many bytes the rows take (`rowBytes`): exact for a few rows, else from 64 of them
 * spread over the page, so that a budget costs little per row.
 */
export function rowsBytes(rows: readonly Row[]): number {
  if (rows.length <= sample) return rows.reduce((n, r) => n + rowBytes(r), 0)
  const step = rows.length / sample
  let n = 0
  for (let i = 0; i < sample; i++) n += rowBytes(rows[Math.floor(i * step)]!)
  return Math.round((n / sample) * rows.length)
}

/**
 * How many rows a source reads next so that a page holds about `bytes` bytes, and never more than
 * `rows`. A first page of at most 10 rows measures the rows' width; the second one completes it
 * to a full page (the batcher merges the two into one write), and each page after it adjusts.
 */
export class PageSizer {
  #next: number
  #first = true

  constructor(
    readonly rows: number,
    readonly bytes = Number.POSITIVE_INFINITY,
  ) {
    this.#next = Number.isFinite(bytes) ? Math.min(rows, 10) : rows
  }

  get next(): number {
    return this.#next
  }

  /** Learns the width of the rows of a page just read. */
  saw(rows: readonly Row[]): void {
    if (!Number.isFinite(this.bytes) || rows.length === 0) return
    const width = Math.max(1, rowsBytes(rows) / rows.length)
    const full = Math.max(1, Math.min(this.rows, Math.floor(this.bytes / width)))
    this.#next = this.#first && rows.length < full ? full - rows.length : full
    this.#first = false
  }
}
