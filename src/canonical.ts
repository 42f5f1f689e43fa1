import type { ColumnInfo, KeyTuple } from './types.js'
import { naiveTimestamp, utcTimestamp } from './values.js'

/**
 * A string equal for equal keys whatever engine or driver the values came from (`5` and `5n`, an
 * upper- and a lower-case UUID, two spellings of one timestamp), distinct for keys that differ in
 * any byte: equality without asking any database how it sorts or compares.
 */
export function keyId(tuple: KeyTuple, columns: readonly Pick<ColumnInfo, 'type'>[]): string {
  // JSON keeps the parts apart whatever characters they hold, and NULL apart from any text.
  return JSON.stringify(tuple.map((v, i) => (v === null || v === undefined ? null : canonical(v, columns[i]!))))
}

/**
 * One text per value whatever engine it came from: booleans and 0/1 agree, numbers and bigints
 * agree, decimals lose trailing zeros, JSON is re-serialised with sorted keys, bytes (and
 * geometries, as EWKB: kind, coordinates and SRID) become hex,
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
