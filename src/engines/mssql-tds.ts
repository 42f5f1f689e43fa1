/**
 * Exact TDS encoders for the types whose tedious encoders round: tedious writes a decimal from a
 * JavaScript number (`parseFloat`, 15-17 digits) and a datetime2 or datetimeoffset from a Date
 * (milliseconds, and the machine's zone for the offset). These write the wire format of MS-TDS
 * 2.2.5.5.1 (decimal: sign byte, then the unscaled value little-endian; date: days since
 * 0001-01-01 in 3 bytes; time: units of 10^-scale s since midnight in 3-5 bytes) from the shared
 * value forms (src/values.ts), digit for digit. They follow tedious' `DataType` shape, so that
 * tedious puts them in RPC parameters and bulk-load rows like its own.
 */
import { naiveTimestamp, utcTimestamp } from '../values.js'
import { decimalParts, unscaledDecimal } from './sql/decimal.js'

/** What tedious hands an encoder: the value, and the column's or parameter's declared sizes. */
export interface TdsParameter {
  readonly value: unknown
  readonly length?: number | undefined
  readonly precision?: number | undefined
  readonly scale?: number | undefined
}

/** The part of tedious' `DataType` that ferry's encoders and its uses of tedious' own types need. */
export interface TdsType {
  readonly id: number
  readonly type: string
  readonly name: string
  declaration(parameter: TdsParameter): string
  generateTypeInfo(parameter: TdsParameter, options?: unknown): Buffer
  generateParameterLength(parameter: TdsParameter, options?: unknown): Buffer
  generateParameterData(parameter: TdsParameter, options?: unknown): Generator<Buffer, void>
  validate(value: unknown, collation?: unknown, options?: unknown): unknown
  resolvePrecision?(parameter: TdsParameter): number
  resolveScale?(parameter: TdsParameter): number
}

const NULL_LENGTH = Buffer.from([0x00])

/** Bytes of a decimal value for a precision (MS-TDS: 5, 9, 13 or 17 including the sign byte). */
function decimalBytes(precision: number): number {
  return precision <= 9 ? 5 : precision <= 19 ? 9 : precision <= 28 ? 13 : 17
}

function decimalText(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  throw new TypeError(`${String(value)} is not a decimal number`)
}

/** decimal(p, s) written from its text, every digit kept (DECIMALN, 0x6A). */
export const ExactDecimal: TdsType = {
  id: 0x6a,
  type: 'DECIMALN',
  name: 'ExactDecimal',
  declaration: (p) => `decimal(${p.precision ?? 38}, ${p.scale ?? 0})`,
  resolvePrecision: (p) => p.precision ?? 38,
  resolveScale: (p) => p.scale ?? 0,
  generateTypeInfo: (p) => Buffer.from([0x6a, decimalBytes(p.precision!), p.precision!, p.scale!]),
  generateParameterLength: (p) => (p.value == null ? NULL_LENGTH : Buffer.from([decimalBytes(p.precision!)])),
  *generateParameterData(p) {
    if (p.value == null) return
    const unscaled = unscaledDecimal(decimalText(p.value), p.precision!, p.scale!)
    const buffer = Buffer.alloc(decimalBytes(p.precision!))
    buffer[0] = unscaled < 0n ? 0 : 1
    let rest = unscaled < 0n ? -unscaled : unscaled
    for (let i = 1; rest > 0n; i++, rest >>= 8n) buffer[i] = Number(rest & 0xffn)
    yield buffer
  },
  validate: (value) => {
    if (value == null) return null
    const text = decimalText(value)
    decimalParts(text)
    return text
  },
}

/** A timestamp's parts: days since 0001-01-01, seconds since midnight, and the fraction's digits. */
interface TimeParts {
  readonly days: number
  readonly seconds: number
  readonly fraction: string
}

const timestampText = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?Z?$/

/** `YYYY-MM-DD HH:MM:SS[.f…]` (as naiveTimestamp or utcTimestamp write it) → its parts. */
function timeParts(text: string): TimeParts {
  const m = timestampText.exec(text)
  if (!m) throw new TypeError(`${JSON.stringify(text)} is not a timestamp`)
  const seconds = Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6])
  return { days: daysSinceYearOne(`${m[1]}-${m[2]}-${m[3]}`), seconds, fraction: (m[7] ?? '').replace(/0+$/, '') }
}

/** Days from 0001-01-01 in the proleptic Gregorian calendar, SQL Server's `date`. */
export function daysSinceYearOne(date: string): number {
  const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(date)
  if (!m) throw new TypeError(`${JSON.stringify(date)} is not a date`)
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const at = new Date(0)
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  at.setUTCFullYear(y, mo - 1, d)
  if (y < 1 || at.getUTCFullYear() !== y || at.getUTCMonth() !== mo - 1 || at.getUTCDate() !== d) {
    throw new RangeError(`${date} is not a date SQL Server holds (0001-01-01 to 9999-12-31)`)
  }
  const start = new Date(0)
  start.setUTCFullYear(1, 0, 1)
  return Math.round((at.getTime() - start.getTime()) / 86_400_000)
}

/** Bytes of the time part for a scale (MS-TDS: 3 up to scale 2, 4 up to 4, else 5). */
const timeBytes = (scale: number) => (scale <= 2 ? 3 : scale <= 4 ? 4 : 5)

function timeUnits(parts: TimeParts, scale: number): number {
  if (parts.fraction.length > scale) throw new RangeError(`the time has more than ${scale} digits after the point`)
  return parts.seconds * 10 ** scale + Number(parts.fraction.padEnd(scale, '0') || '0')
}

function writeDateTime(parts: TimeParts, scale: number, extra: number): Buffer {
  const bytes = timeBytes(scale)
  const buffer = Buffer.alloc(bytes + 3 + extra)
  buffer.writeUIntLE(timeUnits(parts, scale), 0, bytes)
  buffer.writeUIntLE(parts.days, bytes, 3)
  return buffer
}

/** date (DATEN, 0x28) from `YYYY-MM-DD`. */
export const ExactDate: TdsType = {
  id: 0x28,
  type: 'DATEN',
  name: 'ExactDate',
  declaration: () => 'date',
  generateTypeInfo: () => Buffer.from([0x28]),
  generateParameterLength: (p) => (p.value == null ? NULL_LENGTH : Buffer.from([3])),
  *generateParameterData(p) {
    if (p.value == null) return
    const buffer = Buffer.alloc(3)
    buffer.writeUIntLE(daysSinceYearOne(p.value as string), 0, 3)
    yield buffer
  },
  validate: (value) => {
    if (value == null) return null
    const text = value instanceof Date ? value.toISOString().slice(0, 10) : String(value)
    daysSinceYearOne(text)
    return text
  },
}

/** datetime2(s) (DATETIME2N, 0x2A) from `YYYY-MM-DD HH:MM:SS.fffffff`; a zone in the text is dropped, as PostgreSQL's timestamp does. */
export const ExactDateTime2: TdsType = {
  id: 0x2a,
  type: 'DATETIME2N',
  name: 'ExactDateTime2',
  declaration: (p) => `datetime2(${p.scale ?? 7})`,
  resolveScale: (p) => p.scale ?? 7,
  generateTypeInfo: (p) => Buffer.from([0x2a, p.scale!]),
  generateParameterLength: (p) => (p.value == null ? NULL_LENGTH : Buffer.from([timeBytes(p.scale!) + 3])),
  *generateParameterData(p) {
    if (p.value == null) return
    yield writeDateTime(timeParts(p.value as string), p.scale!, 0)
  },
  validate: (value) => {
    if (value == null) return null
    const text = naiveTimestamp(value)
    if (text === undefined) throw new TypeError(`${JSON.stringify(value)} is not a timestamp`)
    timeParts(text)
    return text
  },
}

/** datetimeoffset(s) (DATETIMEOFFSETN, 0x2B): the instant in UTC with offset +00:00; a text without a zone is taken as UTC. */
export const ExactDateTimeOffset: TdsType = {
  id: 0x2b,
  type: 'DATETIMEOFFSETN',
  name: 'ExactDateTimeOffset',
  declaration: (p) => `datetimeoffset(${p.scale ?? 7})`,
  resolveScale: (p) => p.scale ?? 7,
  generateTypeInfo: (p) => Buffer.from([0x2b, p.scale!]),
  generateParameterLength: (p) => (p.value == null ? NULL_LENGTH : Buffer.from([timeBytes(p.scale!) + 5])),
  *generateParameterData(p) {
    if (p.value == null) return
    // The last two bytes are the offset in minutes: 0, the instant being in UTC already.
    yield writeDateTime(timeParts(p.value as string), p.scale!, 2)
  },
  validate: (value) => {
    if (value == null) return null
    const text = utcTimestamp(value)
    if (text === undefined) throw new TypeError(`${JSON.stringify(value)} is not a timestamp`)
    timeParts(text)
    return text
  },
}

const timeText = /^(\d\d):(\d\d):(\d\d)(?:\.(\d+))?$/

function timeOfDay(text: string): TimeParts {
  const m = timeText.exec(text)
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59 || Number(m[3]) > 59) throw new TypeError(`${JSON.stringify(text)} is not a time of day`)
  return { days: 0, seconds: Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]), fraction: (m[4] ?? '').replace(/0+$/, '') }
}

/** time(s) (TIMEN, 0x29) from `HH:MM:SS[.fffffff]`, as ferry reads it. */
export const ExactTime: TdsType = {
  id: 0x29,
  type: 'TIMEN',
  name: 'ExactTime',
  declaration: (p) => `time(${p.scale ?? 7})`,
  resolveScale: (p) => p.scale ?? 7,
  generateTypeInfo: (p) => Buffer.from([0x29, p.scale!]),
  generateParameterLength: (p) => (p.value == null ? NULL_LENGTH : Buffer.from([timeBytes(p.scale!)])),
  *generateParameterData(p) {
    if (p.value == null) return
    const bytes = timeBytes(p.scale!)
    const buffer = Buffer.alloc(bytes)
    buffer.writeUIntLE(timeUnits(timeOfDay(p.value as string), p.scale!), 0, bytes)
    yield buffer
  },
  validate: (value) => {
    if (value == null) return null
    if (typeof value !== 'string') throw new TypeError(`${String(value)} is not a time of day`)
    timeOfDay(value)
    return value
  },
}
