import pRetry from 'p-retry'
import { canonical, keyId } from './canonical.js'
import type { ResolvedSettings } from './config.js'
import type { Keys } from './key-check.js'
import { keyOf, keyText } from './keys.js'
import { backoff, type ReadRetry, retryDelay, retryingRead } from './read-retry.js'
import type { Sink, WriteTarget } from './sink.js'
import type { Source } from './source.js'
import type { ColumnInfo, Json, KeyTuple, Row } from './types.js'

/** A source partition where the target differs. */
export interface PartitionMismatch {
  readonly partition: Json
  /** Rows the partition should have put in the target. */
  readonly expected: number
  readonly missing: number
  readonly differing: number
}

export interface ValidationResult {
  readonly passed: boolean
  readonly mode: 'count' | 'checksum'
  /** Source rows under the filter. */
  readonly sourceCount: number
  /** Rows the target should hold: rejected rows and rows the transform drops left out. */
  readonly expectedCount: number
  readonly targetCount: number
  /** Checksum: source rows the comparison read (all of them, unless rows came or went meanwhile). */
  readonly sourceRowsRead?: number
  /** Checksum: source partitions compared, and those that differ (the first 100). */
  readonly partitionsCompared?: number
  readonly mismatchedPartitions?: PartitionMismatch[]
  /** Samples (up to 20 each) of keys missing from the target, extra in it, or with other values. */
  readonly missingKeys?: string[]
  readonly extraKeys?: string[]
  readonly differingKeys?: string[]
  /** Target columns whose values differ, with how many rows differ in each. */
  readonly differingColumns?: Record<string, number>
  /** Target keys that several source rows are transformed to (samples): the target holds one row for them. */
  readonly sharedKeys?: string[]
}

const sampleSize = 20
const maxMismatches = 100
/** Expected keys held in memory to name extra target rows; beyond it, extras are only counted. */
const maxKeysToName = 1_000_000

export interface ValidationInput {
  readonly settings: ResolvedSettings
  readonly keys: Keys
  readonly source: Source
  /** The target, for counts and lookups by key. */
  readonly sink: Sink
  /** The target table and the columns the run writes. */
  readonly target: WriteTarget
  /** The source partitions to compare, as the run planned them. */
  readonly partitions: readonly Json[]
  /** Source rows the transform dropped, for count validation; undefined: counted by running it. */
  readonly filtered?: number | undefined
  /** Target keys (`keyId`) of the rows the target rejected and the run set aside. */
  readonly rejected: ReadonlySet<string>
  /** Retries of reads and lookups that fail transiently (a lost connection), as the load's. */
  readonly retry?: ReadRetry
  /** Opens the target as a source, to name extra rows; undefined when it cannot be read back. */
  readonly targetReader: () => Promise<Source | undefined>
}

/**
 * Compares source and target after a run, never reading the target in the source's order: counts
 * always; with `validate: 'checksum'`, every transformed source row, partition by partition, with
 * the target row looked up by its target key, column by column as stored; the totals then give the
 * target rows no source row accounts for, which are named when the target can be scanned.
 */
export async function validateRun(input: ValidationInput): Promise<ValidationResult> {
  const s = input.settings
  const sourceCount = await input.source.count(s.sourceTable, s.where)
  const targetCount = await input.sink.count(s.targetTable, s.targetWhere)
  if (s.validate !== 'checksum') {
    const filtered = input.filtered ?? (s.transform ? await droppedRows(input) : 0)
    const expectedCount = sourceCount - filtered - input.rejected.size
    return { passed: expectedCount === targetCount, mode: 'count', sourceCount, expectedCount, targetCount }
  }
  const compare = new Comparison(input)
  for (const partition of input.partitions) await compare.partition(partition)
  const extra = targetCount - compare.found
  const extraKeys = extra > 0 ? await nameExtras(input, extra) : []
  return {
    // Every source row must have been read: a reader that skips rows would see them nowhere.
    passed: compare.clean && extra === 0 && compare.read === sourceCount,
    sourceRowsRead: compare.read,
    mode: 'checksum',
    sourceCount,
    expectedCount: compare.expected,
    targetCount,
    partitionsCompared: input.partitions.length,
    mismatchedPartitions: compare.mismatches,
    missingKeys: compare.missingKeys,
    extraKeys,
    differingKeys: compare.differingKeys,
    differingColumns: compare.differingColumns,
    sharedKeys: compare.sharedKeys,
  }
}

/** The checksum pass: source rows transformed, looked up in the target by key, compared. */
class Comparison {
  /** Source rows read, before the transform. */
  read = 0
  expected = 0
  /** Expected rows the target holds a row for (equal or not). */
  found = 0
  /** The target keys found, while they fit in memory: several source rows meeting one is a difference. */
  #foundKeys: Set<string> | undefined = new Set()
  readonly sharedKeys: string[] = []
  readonly mismatches: PartitionMismatch[] = []
  readonly missingKeys: string[] = []
  readonly differingKeys: string[] = []
  readonly differingColumns: Record<string, number> = {}
  readonly #columns: readonly ColumnInfo[]
  readonly #keyColumns: readonly ColumnInfo[]
  readonly #lookup: WriteTarget

  constructor(readonly input: ValidationInput) {
    const s = input.settings
    this.#columns = input.target.columns.filter((c) => !s.validateIgnore.includes(c.name))
    this.#keyColumns = input.target.key.map((k) => input.target.columns.find((c) => c.name === k)!)
    this.#lookup = { ...input.target, columns: [...new Set([...this.#keyColumns, ...this.#columns])] }
  }

  get clean(): boolean {
    return this.mismatches.length === 0 && this.missingKeys.length === 0 && this.differingKeys.length === 0 && this.sharedKeys.length === 0
  }

  async partition(partition: Json): Promise<void> {
    const before = { expected: this.expected, missing: this.#missing, differing: this.#differing }
    for await (const { read, rows } of transformedPages(this.input, partition)) {
      this.read += read
      await this.#compare(rows)
    }
    const missing = this.#missing - before.missing
    const differing = this.#differing - before.differing
    if ((missing || differing) && this.mismatches.length < maxMismatches) {
      this.mismatches.push({ partition, expected: this.expected - before.expected, missing, differing })
    }
  }

  #missing = 0
  #differing = 0

  async #compare(rows: Row[]): Promise<void> {
    const key = this.input.target.key
    const expected = rows.filter((r) => !this.input.rejected.has(keyId(keyOf(r, key), this.#keyColumns)))
    if (expected.length === 0) return
    this.expected += expected.length
    const found = await retryingLookup(this.input, this.#lookup, expected.map((r) => keyOf(r, key)))
    const byKey = new Map(found.map((r) => [keyId(keyOf(r, key), this.#keyColumns), r]))
    for (const row of expected) {
      const id = keyId(keyOf(row, key), this.#keyColumns)
      const actual = byKey.get(id)
      if (!actual) {
        this.#missing++
        sample(this.missingKeys, keyText(keyOf(row, key)))
        continue
      }
      this.found++
      this.#distinct(id, row)
      const columns = this.#columns.filter((c) => canonical(row[c.name], c) !== canonical(actual[c.name], c))
      if (columns.length === 0) continue
      this.#differing++
      sample(this.differingKeys, keyText(keyOf(row, key)))
      for (const c of columns) this.differingColumns[c.name] = (this.differingColumns[c.name] ?? 0) + 1
    }
  }

  /** Notes a found target key; one that an earlier source row already met is a shared key. */
  #distinct(id: string, row: Row): void {
    if (!this.#foundKeys) return
    if (this.#foundKeys.has(id)) sample(this.sharedKeys, keyText(keyOf(row, this.input.target.key)))
    else if (this.#foundKeys.size < maxKeysToName) this.#foundKeys.add(id)
    else this.#foundKeys = undefined
  }
}

function sample(list: string[], id: string): void {
  if (list.length < sampleSize) list.push(id)
}

/** Target rows by key, looked up again with the read retries' schedule when a lookup fails transiently. */
function retryingLookup(input: ValidationInput, target: WriteTarget, keys: readonly KeyTuple[]): Promise<Row[]> {
  const retry = input.retry
  if (!retry) return input.sink.lookup(target, keys)
  return pRetry(() => input.sink.lookup(target, keys), {
    signal: retry.signal,
    retries: retry.maxRetries,
    ...backoff(retry.retryDelay),
    shouldRetry: ({ error }) => input.sink.classify(error) === 'transient',
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (input.sink.classify(error) === 'transient') retry.failed(error, attemptNumber, retriesLeft, retryDelay(retry, attemptNumber), undefined)
    },
  })
}

/** Source rows the transform drops, counted by running it over every partition. */
async function droppedRows(input: ValidationInput): Promise<number> {
  let dropped = 0
  for (const partition of input.partitions) {
    for await (const { read, rows } of transformedPages(input, partition)) dropped += read - rows.length
  }
  return dropped
}

/** The source rows of a partition as the transform makes them, page by page, with how many were read. */
async function* transformedPages(input: ValidationInput, partition: Json): AsyncGenerator<{ read: number; rows: Row[] }> {
  const s = input.settings
  const spec = { table: s.sourceTable, key: input.keys.source, filter: s.where, partition, pageSize: s.batchSize }
  const pages = input.retry ? retryingRead(input.source, spec, input.retry) : input.source.read(spec)
  for await (const page of pages) {
    if (!s.transform) {
      yield { read: page.rows.length, rows: page.rows }
      continue
    }
    const rows: Row[] = []
    for (const row of page.rows) {
      const out = await s.transform(row)
      if (out != null) rows.push(out)
    }
    yield { read: page.rows.length, rows }
  }
}

/**
 * Up to 20 target keys no source row accounts for: the expected keys are gathered again (when
 * they fit in memory), then the target's keys are scanned against them, in the target's own order.
 */
async function nameExtras(input: ValidationInput, extra: number): Promise<string[]> {
  const { sink, target } = input
  // The sink's own key scan where it has one (a document store keeps the key in `_id`).
  if (sink.keys) return scanExtras(input, sink.keys(target, 5000, input.settings.targetWhere), extra)
  const reader = await input.targetReader()
  if (!reader) return []
  try {
    return await scanExtras(input, targetKeys(input, reader), extra)
  } finally {
    await reader.close()
  }
}

/** The target's keys as a source of its engine reads them, in pages. */
async function* targetKeys(input: ValidationInput, reader: Source): AsyncGenerator<KeyTuple[]> {
  const s = input.settings
  const key = input.target.key
  const read = { table: s.targetTable, key, filter: s.targetWhere }
  for (const partition of await reader.partitions(read)) {
    for await (const page of reader.read({ ...read, partition, pageSize: 5000, columns: key })) yield page.rows.map((r) => keyOf(r, key))
  }
}

async function scanExtras(input: ValidationInput, targetKeys: AsyncIterable<KeyTuple[]>, extra: number): Promise<string[]> {
  const key = input.target.key
  const keyColumns = key.map((k) => input.target.columns.find((c) => c.name === k)!)
  const expected = new Set<string>()
  for (const partition of input.partitions) {
    for await (const { rows } of transformedPages(input, partition)) {
      for (const row of rows) expected.add(keyId(keyOf(row, key), keyColumns))
      if (expected.size > maxKeysToName) return [`${extra} extra rows (too many source rows to name them)`]
    }
  }
  const names: string[] = []
  for await (const page of targetKeys) {
    for (const tuple of page) {
      if (!expected.has(keyId(tuple, keyColumns))) sample(names, keyText(tuple))
    }
    if (names.length >= sampleSize) return names
  }
  return names
}
