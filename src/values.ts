/**
 * How values travel between engines, whatever engine they came from: integers as numbers (bigint
 * beyond 2^53), decimals as strings, floats as numbers (a single-precision value as the double of
 * exactly the value stored: MySQL's FLOAT 123456.789 is 123456.7890625), dates as `YYYY-MM-DD`,
 * timestamps as `YYYY-MM-DD HH:MM:SS.ffffff`, timestamps with time zone as UTC ISO strings
 * `YYYY-MM-DDTHH:MM:SS.ffffffZ`, JSON parsed, bytes as Buffers, UUIDs as strings, geometries as
 * EWKB Buffers (kind, coordinates and SRID; src/geometry.ts). Fractions of seconds lose their
 * trailing zeros. The helpers here convert to those forms and check what a target can hold.
 */
import { SinkWriteError } from './errors.js'
import { keyOf, keyText } from './keys.js'
import type { ColumnInfo, LogicalType, Row, TableSchema } from './types.js'

const timestampPattern =
  /^(\d{4,})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?\s*(Z|[+-]\d\d(?::?\d\d(?::?\d\d)?)?)?$/i

interface TimestampParts {
  readonly date: string
  readonly time: string
  /** Digits after the point, without trailing zeros. */
  readonly fraction: string
  /** Seconds east of UTC, or undefined when the text has no zone. */
  readonly offset?: number
}

function parseTimestamp(text: string): TimestampParts | undefined {
  const m = timestampPattern.exec(text.trim())
  if (!m) return undefined
  const fraction = (m[7] ?? '').replace(/0+$/, '')
  const parts = { date: `${m[1]}-${m[2]}-${m[3]}`, time: `${m[4]}:${m[5]}:${m[6]}`, fraction }
  return m[8] === undefined ? parts : { ...parts, offset: offsetSeconds(m[8]) }
}

function offsetSeconds(zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0
  const digits = zone.slice(1).replaceAll(':', '')
  const seconds = Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4) || 0) * 60 + Number(digits.slice(4, 6) || 0)
  return zone.startsWith('-') ? -seconds : seconds
}

/** Shifts a wall-clock time by `-offset` seconds, exactly: the fraction is kept aside. */
function toUtc(parts: TimestampParts): { date: string; time: string } {
  if (!parts.offset) return parts
  const [y, mo, d] = parts.date.split('-').map(Number) as [number, number, number]
  const [h, mi, s] = parts.time.split(':').map(Number) as [number, number, number]
  const at = new Date(0)
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  at.setUTCFullYear(y, mo - 1, d)
  at.setUTCHours(h, mi, s - parts.offset, 0)
  const pad = (n: number, width = 2) => String(n).padStart(width, '0')
  return {
    date: `${pad(at.getUTCFullYear(), 4)}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}`,
    time: `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}`,
  }
}

function withFraction(time: string, fraction: string): string {
  return fraction ? `${time}.${fraction}` : time
}

/** `2000-01-01T12:00:00.5+02:00` → `2000-01-01T10:00:00.5Z`; undefined when not a timestamp. */
export function utcTimestamp(value: unknown): string | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : utcTimestamp(value.toISOString())
  if (typeof value !== 'string') return undefined
  const parts = parseTimestamp(value)
  if (!parts) return undefined
  const utc = toUtc(parts)
  return `${utc.date}T${withFraction(utc.time, parts.fraction)}Z`
}

/**
 * `2000-01-01T12:00:00.500+02` → `2000-01-01 12:00:00.5`: the wall-clock time, a zone dropped as
 * PostgreSQL's `timestamp` input does; a Date is read in UTC. Undefined when not a timestamp.
 */
export function naiveTimestamp(value: unknown): string | undefined {
  if (value instanceof Date) return naiveTimestamp(utcTimestamp(value))
  if (typeof value !== 'string') return undefined
  const parts = parseTimestamp(value)
  return parts && `${parts.date} ${withFraction(parts.time, parts.fraction)}`
}

/** Digits after the point of a timestamp text, trailing zeros left out. */
export function fractionDigits(value: unknown): number {
  const parts = typeof value === 'string' ? parseTimestamp(value) : undefined
  return parts?.fraction.length ?? 0
}

/** JSON text of a parsed value; bigints (from exact integer columns) become JSON numbers. */
export function jsonText(value: unknown): string {
  try {
    // Without a replacer JSON.stringify is several times faster; it throws only on a bigint.
    return JSON.stringify(value)
  } catch {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `\u0000bigint:${v}` : v)).replace(
      /"\\u0000bigint:(-?\d+)"/g,
      '$1',
    )
  }
}

export function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * The declared length of a character column, read from its native type (`varchar(20)`,
 * `character varying(20)`, `CHAR(3)`), so lengths carry over between engines.
 */
export function textLength(column: Pick<ColumnInfo, 'type' | 'nativeType'>): number | undefined {
  if (column.type !== 'text') return undefined
  // Oracle spells the unit: `VARCHAR2(20 CHAR)`, `NVARCHAR2(20)`.
  const m = /^\s*(?:national\s+)?(?:n?varchar2?|character varying|n?char|character)\s*\(\s*(\d+)\s*(?:char|byte)?\s*\)/i.exec(column.nativeType)
  return m ? Number(m[1]) : undefined
}

/** Digits before and after the point of a decimal text, or undefined when it is not one. */
function decimalDigits(text: string): { whole: number; fraction: number } | undefined {
  const plain = /^[+-]?0*(\d*?)(?:\.(\d*?)0*)?$/.exec(text)
  if (plain) return { whole: plain[1]!.length, fraction: plain[2]?.length ?? 0 }
  const m = /^[+-]?(\d*)(?:\.(\d*))?e([+-]?\d+)$/i.exec(text.trim())
  if (!m || (m[1] === '' && !m[2])) return undefined
  // Shift the point by the exponent, then count as above.
  const digits = m[1]! + (m[2] ?? '')
  const point = m[1]!.length + Number(m[3])
  if (point <= 0) return decimalDigits(`0.${'0'.repeat(-point)}${digits}`)
  if (point >= digits.length) return decimalDigits(digits.padEnd(point, '0'))
  return decimalDigits(`${digits.slice(0, point)}.${digits.slice(point)}`)
}

function decimalReason(value: unknown, column: ColumnInfo): string | undefined {
  if (column.precision === undefined && column.scale === undefined) return undefined
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint') return undefined
  if (typeof value === 'string' && fitsPlainly(value, column)) return undefined
  const digits = decimalDigits(String(value))
  if (!digits) return undefined
  const scale = column.scale ?? 0
  if (digits.fraction > scale) return `${String(value)} has more than ${scale} digits after the point`
  if (column.precision !== undefined && digits.whole > column.precision - scale) {
    return `${String(value)} has more than ${column.precision - scale} digits before the point`
  }
  return undefined
}

/**
 * The common case without a regular expression: plain digits with at most `scale` of them after
 * the point and few enough before it (leading zeros and a sign counted, which only errs towards
 * the exact check below).
 */
function fitsPlainly(text: string, column: ColumnInfo): boolean {
  const scale = column.scale ?? 0
  const dot = text.indexOf('.')
  const whole = dot === -1 ? text.length : dot
  const fraction = dot === -1 ? 0 : text.length - dot - 1
  if (fraction > scale || (column.precision !== undefined && whole > column.precision - scale)) return false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if ((c < 48 || c > 57) && i !== dot && !(i === 0 && (c === 45 || c === 43))) return false
  }
  return true
}

// UTF-8 cannot encode half a surrogate pair: drivers would silently write U+FFFD instead.
// isWellFormed (Node 20+) is native; the lib of TypeScript's ES2023 target does not declare it yet.
const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed()

/** Why a single-precision column would round the value (MySQL's FLOAT does so without a warning). */
function singleReason(value: unknown): string | undefined {
  if (typeof value !== 'number' && typeof value !== 'bigint' && typeof value !== 'string') return undefined
  const n = Number(value)
  // Not a number or out of range: the engine itself refuses it.
  if (!Number.isFinite(n)) return undefined
  const exact = Math.fround(n) === n && (typeof value !== 'bigint' || BigInt(n) === value)
  return exact ? undefined : `${String(value)} is not a single-precision float (the column would store ${Math.fround(n)})`
}

const units: Record<number, string> = { 0: 'seconds', 3: 'milliseconds', 6: 'microseconds', 7: '100 nanoseconds', 9: 'nanoseconds' }

/** Why a timestamp has more digits after the point than the column keeps (`digits`, 6 unless it says). */
function fractionCheck(digits: number): Check {
  // A regular expression first: most values have no more digits than the column keeps.
  const tooLong = new RegExp(`\\.\\d{${digits + 1}}`)
  const unit = units[digits] ?? `${digits} digits after the point`
  return (v) => (typeof v === 'string' && tooLong.test(v) && fractionDigits(v) > digits ? `${v} is more precise than ${unit}` : undefined)
}

/**
 * What to check in a column's values: what the engines would otherwise round without an error
 * (decimals with more digits after the point than the scale, doubles into single-precision
 * columns, fractions of seconds beyond microseconds) and text UTF-8 cannot encode.
 */
function checkFor(column: ColumnInfo): Check | undefined {
  switch (column.type) {
    case 'decimal':
      // PostgreSQL's numeric takes 'NaN': a number that is not one would be stored as such.
      return (v) => (typeof v === 'number' && !Number.isFinite(v) ? `${v} is not a number a decimal can hold` : decimalReason(v, column))
    case 'float':
      return column.precision !== undefined && column.precision <= 24 ? singleReason : undefined
    case 'timestamp':
    case 'timestamptz':
      return fractionCheck(column.scale ?? 6)
    case 'text':
      return (v) =>
        typeof v === 'string' && !isWellFormed(v) ? 'the text holds a lone UTF-16 surrogate' : undefined
    default:
      return undefined
  }
}

type CheckTarget = { readonly columns: readonly ColumnInfo[]; readonly key: readonly string[] }

/** Throws a rejected-row error naming the first value of `rows` that its column cannot hold exactly. */
export function checkRows(target: CheckTarget, rows: readonly Row[]): void {
  const problem = rowChecker(target)
  if (!problem) return
  for (const row of rows) {
    const error = problem(row)
    if (error) throw error
  }
}

/**
 * The rows of a batch a column cannot hold exactly, by index, each with a rejected-row error
 * naming the column and key: the checks of `checkRows`, and an engine's own (`extra`, by column).
 * For sinks that write the other rows and report these (`WriteResult`).
 */
export function refusedRows(
  target: CheckTarget,
  rows: readonly Row[],
  extra?: (column: ColumnInfo) => Check | undefined,
): { index: number; error: SinkWriteError }[] {
  const problem = rowChecker(target, extra)
  if (!problem) return []
  return rows.flatMap((row, index) => {
    const error = problem(row)
    return error ? [{ index, error }] : []
  })
}

/** What a column cannot hold (undefined when it holds the value): a reason, said after the column and key. */
export type Check = (value: unknown) => string | undefined

/** A function giving the error for a row's first value its column cannot hold, or undefined when no column needs a check. */
function rowChecker(target: CheckTarget, extra?: (column: ColumnInfo) => Check | undefined): ((row: Row) => SinkWriteError | undefined) | undefined {
  const checks = target.columns.flatMap((c) => {
    const own = checkFor(c)
    const engine = extra?.(c)
    const check: Check | undefined = own && engine ? (v) => own(v) ?? engine(v) : (own ?? engine)
    return check ? [[c.name, check] as const] : []
  })
  if (checks.length === 0) return undefined
  return (row) => {
    for (const [name, check] of checks) {
      const v = row[name]
      const reason = v === null || v === undefined ? undefined : check(v)
      if (reason === undefined) continue
      const which = target.key.length ? ` of the row with key ${keyText(keyOf(row, target.key))}` : ''
      return new SinkWriteError(`column \`${name}\`${which} cannot hold the value exactly: ${reason}`, 'rejected')
    }
    return undefined
  }
}

/**
 * A function that rewrites a row in place, running each column's decoder (by logical type) on
 * its non-null values; columns without one are not touched, so the per-row cost is only theirs.
 */
export function rowDecoderWith(
  schema: TableSchema,
  decoders: Partial<Record<LogicalType, (v: unknown) => unknown>>,
): (row: Row) => void {
  const steps = schema.columns.flatMap((c) => {
    const decode = decoders[c.type]
    return decode ? [[c.name, decode] as const] : []
  })
  return (row) => {
    for (const [name, decode] of steps) {
      const v = row[name]
      if (v !== null && v !== undefined) row[name] = decode(v)
    }
  }
}

/** Drivers hand 64-bit integers over as bigint; most fit a number, and a number is what users expect. */
export function narrowInteger(value: bigint): number | bigint {
  return value >= Number.MIN_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER ? Number(value) : value
}
