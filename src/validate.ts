import { createHash } from 'node:crypto'
import type { ResolvedSettings } from './config.js'
import { naiveTimestamp, utcTimestamp } from './dialects/values.js'
import { keyId } from './keys.js'
import type { Source } from './source.js'
import { chunksOf } from './strategies/chunks.js'
import type { ColumnInfo, Key, KeyRange, Row, TableSchema } from './types.js'

export interface ChunkMismatch {
  readonly range: { gt?: string; lte?: string }
  readonly sourceRows: number
  readonly targetRows: number
  readonly sourceDigest: string
  readonly targetDigest: string
}

export interface ValidationResult {
  readonly passed: boolean
  readonly mode: 'count' | 'checksum'
  readonly sourceCount: number
  /** Source rows the target should hold: rejected rows and rows the transform drops left out. */
  readonly expectedCount: number
  readonly targetCount: number
  readonly chunksCompared?: number
  readonly mismatchedChunks?: ChunkMismatch[]
  /** Samples (up to 20 each) of keys missing from the target, extra in it, or with other values. */
  readonly missingKeys?: string[]
  readonly extraKeys?: string[]
  readonly differingKeys?: string[]
}

const sampleSize = 20

export interface ValidationInput {
  readonly settings: ResolvedSettings
  readonly source: Source
  readonly target: Source
  readonly targetSchema: TableSchema
  /** Rows the run set aside as rejected or dropped by the transform. */
  readonly notExpected: number
}

/**
 * Compares source and target after a run: counts always; with `validate: 'checksum'`, an
 * order-independent digest of every canonicalised row per chunk, and for the chunks that differ,
 * the keys that are missing, extra or different.
 */
export async function validateRun(input: ValidationInput): Promise<ValidationResult> {
  const s = input.settings
  const sourceCount = await input.source.count(s.sourceTable, s.where)
  const targetCount = await input.target.count(s.targetTable, s.targetWhere)
  const expectedCount = sourceCount - input.notExpected
  const counts = { sourceCount, expectedCount, targetCount }
  if (s.validate !== 'checksum') {
    return { passed: expectedCount === targetCount, mode: 'count', ...counts }
  }
  const columns = input.targetSchema.columns.filter((c) => !s.validateIgnore.includes(c.name))
  const ranges = await chunksOf(input.source, s)
  const mismatchedChunks: ChunkMismatch[] = []
  const missingKeys: string[] = []
  const extraKeys: string[] = []
  const differingKeys: string[] = []
  for (const range of ranges) {
    const expected = await digestRows(transformed(input, range), s.targetKey, columns)
    const actual = await digestRows(targetRows(input, range), s.targetKey, columns)
    if (expected.sum === actual.sum && expected.rows.size === actual.rows.size) continue
    mismatchedChunks.push({
      range: { ...(range.gt !== undefined && { gt: String(range.gt) }), ...(range.lte !== undefined && { lte: String(range.lte) }) },
      sourceRows: expected.rows.size,
      targetRows: actual.rows.size,
      sourceDigest: hex(expected.sum),
      targetDigest: hex(actual.sum),
    })
    for (const [id, digest] of expected.rows) {
      const other = actual.rows.get(id)
      if (other === undefined) addSample(missingKeys, id)
      else if (other !== digest) addSample(differingKeys, id)
    }
    for (const id of actual.rows.keys()) if (!expected.rows.has(id)) addSample(extraKeys, id)
  }
  return {
    passed: mismatchedChunks.length === 0 && expectedCount === targetCount,
    mode: 'checksum',
    ...counts,
    chunksCompared: ranges.length,
    mismatchedChunks,
    missingKeys,
    extraKeys,
    differingKeys,
  }
}

function addSample(list: string[], id: string): void {
  if (list.length < sampleSize) list.push(id.startsWith("'") ? id.slice(1) : id)
}

async function* transformed(input: ValidationInput, range: KeyRange): AsyncGenerator<Row> {
  const s = input.settings
  const pages = input.source.read({ table: s.sourceTable, key: s.primaryKey, range, where: s.where, pageSize: s.batchSize })
  for await (const page of pages) {
    for (const row of page) {
      const out = s.transform ? await s.transform(row) : row
      if (out != null) yield out
    }
  }
}

async function* targetRows(input: ValidationInput, range: KeyRange): AsyncGenerator<Row> {
  const s = input.settings
  const pages = input.target.read({ table: s.targetTable, key: s.targetKey, range, pageSize: s.batchSize })
  for await (const page of pages) yield* page
}

/** Per-row digests by key, and their sum mod 2^64: equal sums mean equal row sets, in any order. */
async function digestRows(rows: AsyncIterable<Row>, key: string, columns: readonly ColumnInfo[]) {
  const digests = new Map<string, bigint>()
  let sum = 0n
  for await (const row of rows) {
    const text = columns.map((c) => canonical(row[c.name], c)).join('\u0001')
    const digest = createHash('sha1').update(text).digest().readBigUInt64BE(0)
    digests.set(keyId(row[key] as Key), digest)
    sum = (sum + digest) & 0xffff_ffff_ffff_ffffn
  }
  return { rows: digests, sum }
}

function hex(n: bigint): string {
  return n.toString(16).padStart(16, '0')
}

/**
 * One text per value whatever engine it came from: booleans and 0/1 agree, numbers and bigints
 * agree, decimals lose trailing zeros, JSON is re-serialised with sorted keys, bytes become hex,
 * timestamps lose trailing zeros in their fractions and instants are put in UTC, UUIDs lowercased.
 */
export function canonical(value: unknown, column: Pick<ColumnInfo, 'type'>): string {
  if (value === null || value === undefined) return '\u0000'
  switch (typeof value) {
    case 'boolean':
      return value ? '1' : '0'
    case 'number':
    case 'bigint':
      return column.type === 'decimal' ? decimalText(String(value)) : String(value)
    case 'string':
      if (column.type === 'decimal') return decimalText(value)
      if (column.type === 'json') return stableJson(parseJson(value))
      if (column.type === 'uuid') return value.toLowerCase()
      return timestampText(value, column) ?? value
    default:
      if (value instanceof Date) {
        if (column.type === 'date') return value.toISOString().slice(0, 10)
        return timestampText(value, column) ?? value.toISOString()
      }
      if (value instanceof Uint8Array) return Buffer.from(value).toString('hex')
      return stableJson(value)
  }
}

/** Timestamps from any engine in one form: fractions without trailing zeros, instants in UTC. */
function timestampText(value: string | Date, column: Pick<ColumnInfo, 'type'>): string | undefined {
  if (column.type === 'timestamp') return naiveTimestamp(value)
  if (column.type === 'timestamptz') return utcTimestamp(value)
  return undefined
}

function decimalText(text: string): string {
  if (!/^-?\d+\.\d+$/.test(text)) return text
  const trimmed = text.replace(/\.?0+$/, '')
  return trimmed === '-0' ? '0' : trimmed
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString()
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    }
    return v
  })
}
