/**
 * BSON values ↔ the shared value forms (src/values.ts). Reads use the driver options in
 * `readOptions`: numbers as numbers, 64-bit integers as bigint, binaries as `Binary` (so that a
 * UUID keeps its subtype). Values JSON has no form for (ObjectId, dates, decimals, binaries) inside
 * a JSON column travel as MongoDB Extended JSON, relaxed (`{"$oid": …}`, `{"$date": …}`), which
 * the sink turns back into BSON.
 */
import { BSON, Binary, Decimal128, Double, Int32, Long, ObjectId, UUID } from 'mongodb'
import type { ColumnInfo } from '../../types.js'
import { narrowInteger, utcTimestamp } from '../../values.js'

/** Driver options of every read, so that values arrive as `fromBson` expects them. */
export const readOptions = { useBigInt64: true, promoteBuffers: false, promoteValues: true, bsonRegExp: true } as const

const bsonType = (v: unknown): string | undefined =>
  v !== null && typeof v === 'object' ? ((v as { _bsontype?: unknown })._bsontype as string | undefined) : undefined

/**
 * Decimal128 text (`-1E-10`, `0E-10`, `1.2E+3`) in plain notation (`-0.0000000001`,
 * `0.0000000000`, `1200`), with the digits it holds: the shared form of a decimal.
 */
export function plainDecimal(text: string): string {
  const m = /^([+-]?)(\d+)(?:\.(\d+))?E([+-]\d+)$/i.exec(text)
  if (!m) return text
  const [, sign, whole, fraction = '', exp] = m
  const digits = whole! + fraction
  const point = whole!.length + Number(exp)
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`
  if (point >= digits.length) return `${sign}${digits.padEnd(point, '0').replace(/^0+(?=\d)/, '')}`
  return `${sign}${digits.slice(0, point).replace(/^0+(?=\d)/, '')}.${digits.slice(point)}`
}

/** `YYYY-MM-DD HH:MM:SS.fff`, the date's UTC wall clock. */
function naive(date: Date): string {
  const iso = utcTimestamp(date) ?? date.toISOString()
  return iso.replace('T', ' ').replace(/Z$/, '')
}

/** A value read from MongoDB in the shared form of its column's type. */
export function fromBson(value: unknown, column: Pick<ColumnInfo, 'type'>): unknown {
  if (value === null || value === undefined) return null
  if (column.type === 'json') return toJsonValue(value)
  switch (typeof value) {
    case 'bigint':
      return narrowInteger(value)
    case 'object':
      break
    default:
      return value
  }
  if (value instanceof Date) {
    if (column.type === 'date') return value.toISOString().slice(0, 10)
    if (column.type === 'timestamp') return naive(value)
    return utcTimestamp(value) ?? value.toISOString()
  }
  switch (bsonType(value)) {
    case 'Decimal128':
      return plainDecimal(value.toString())
    case 'ObjectId':
      return (value as ObjectId).toHexString()
    case 'Binary': {
      const binary = value as Binary
      if (binary.sub_type === Binary.SUBTYPE_UUID && binary.length() === 16) return binary.toUUID().toHexString(true)
      return Buffer.from(binary.value())
    }
    case 'Long':
      return narrowInteger((value as Long).toBigInt())
    case 'Int32':
    case 'Double':
      return (value as Int32 | Double).valueOf()
  }
  return toJsonValue(value)
}

/**
 * A BSON value as JSON: objects and arrays walked, numbers as numbers (bigint beyond 2^53), what
 * JSON lacks as relaxed Extended JSON.
 */
export function toJsonValue(value: unknown): unknown {
  if (value === null || value === undefined) return null
  switch (typeof value) {
    case 'bigint':
      return narrowInteger(value)
    case 'object':
      break
    default:
      return value
  }
  if (Array.isArray(value)) return value.map(toJsonValue)
  if (bsonType(value) === 'Long') return narrowInteger((value as Long).toBigInt())
  if (bsonType(value) !== undefined || value instanceof Date) return BSON.EJSON.serialize(value, { relaxed: true })
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = toJsonValue(v)
  return out
}

/** The inverse of `toJsonValue`: Extended JSON wrappers become BSON values again, bigints Longs. */
export function fromJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Long.fromBigInt(value)
  if (value === null || typeof value !== 'object' || value instanceof Date || bsonType(value) !== undefined) return value
  if (Array.isArray(value)) return value.map(fromJsonValue)
  if (value instanceof Uint8Array) return new Binary(value)
  const keys = Object.keys(value)
  if (keys.length > 0 && keys.length <= 2 && keys[0]!.startsWith('$')) {
    try {
      return BSON.EJSON.deserialize(value as BSON.Document, { relaxed: true })
    } catch {
      // Not Extended JSON after all: kept as it is (a server may then refuse the `$` name).
    }
  }
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = fromJsonValue(v)
  return out
}

/** Why a value cannot be written as its column's type; the sink makes it a rejected row. */
export class ValueError extends Error {}

/** How the sink writes what BSON has no exact type for. */
export interface EncodeOptions {
  readonly decimals: 'decimal128' | 'string'
  readonly subMillisecond: 'refuse' | 'truncate'
  /** The server closes the connection on a NaN double (FerretDB). */
  readonly refuseNaN: boolean
}

const integerText = /^[+-]?\d+$/
const decimalText = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$|^[+-]?(?:NaN|Infinity)$/i
const int32 = (n: bigint) => n >= -2147483648n && n <= 2147483647n

/** A value in the shared form of its column's type as the BSON value the sink writes. */
export function toBson(value: unknown, column: ColumnInfo, options: EncodeOptions): unknown {
  if (value === null || value === undefined) return null
  switch (column.type) {
    case 'integer':
    case 'bigint': {
      const n = wholeNumber(value)
      // Int32 where the column is a 32-bit integer, so that a copy keeps BSON's int and long apart.
      return column.type === 'integer' && int32(n) ? new Int32(Number(n)) : Long.fromBigInt(n)
    }
    case 'float':
      return double(value, options)
    case 'decimal':
      return decimal(value, options)
    case 'boolean':
      if (typeof value === 'boolean') return value
      if (value === 0 || value === 1 || value === 0n || value === 1n) return value == 1
      throw new ValueError(`${show(value)} is not a boolean`)
    case 'date':
    case 'timestamp':
    case 'timestamptz':
      return dateOf(value, column, options)
    case 'json':
      return fromJsonValue(value)
    case 'bytes':
      if (value instanceof Uint8Array) return new Binary(value)
      throw new ValueError(`${show(value)} is not bytes`)
    case 'uuid':
      return uuid(value)
    case 'text':
      if (typeof value === 'string' && column.nativeType === 'objectId' && ObjectId.isValid(value) && value.length === 24) {
        return new ObjectId(value)
      }
      // Another type than the column's (a field of mixed types): written as what it is.
      return fromJsonValue(value)
    case 'geometry':
      throw new ValueError('MongoDB has no geometry type that keeps its kind and SRID')
  }
}

function wholeNumber(value: unknown): bigint {
  if (typeof value === 'bigint') return value
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value)
  if (typeof value === 'string' && integerText.test(value.trim())) return BigInt(value.trim())
  throw new ValueError(`${show(value)} is not an integer`)
}

function double(value: unknown, options: EncodeOptions): Double {
  let n: number
  if (typeof value === 'number') n = value
  else if (typeof value === 'bigint') {
    n = Number(value)
    if (BigInt(n) !== value) throw new ValueError(`${value} has more digits than a double holds`)
  } else if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) n = Number(value)
  else throw new ValueError(`${show(value)} is not a number`)
  if (Number.isNaN(n) && options.refuseNaN) throw new ValueError('NaN, which this server (FerretDB) cannot store')
  return new Double(n)
}

function decimal(value: unknown, options: EncodeOptions): Decimal128 | string {
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint') {
    throw new ValueError(`${show(value)} is not a decimal`)
  }
  const text = String(value).trim()
  if (options.decimals === 'string') {
    if (decimalText.test(text)) return text
    throw new ValueError(`${show(value)} is not a decimal`)
  }
  try {
    return Decimal128.fromString(text)
  } catch (err) {
    // Decimal128 holds 34 significant digits; more would be rounded, which fromString refuses.
    throw new ValueError(`${text} is not a decimal Decimal128 holds exactly (${(err as Error).message})`)
  }
}

function uuid(value: unknown): Binary {
  try {
    if (typeof value === 'string') return new UUID(value)
    if (value instanceof Uint8Array && value.length === 16) return new Binary(value, Binary.SUBTYPE_UUID)
  } catch {
    // Reported below.
  }
  throw new ValueError(`${show(value)} is not a UUID`)
}

const timestampText = /^(\d{4,})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?)?$/

/**
 * A date or timestamp as a BSON date, which counts milliseconds since 1970 in UTC: a date at
 * midnight UTC, a timestamp without zone read as UTC. Digits past the millisecond are refused, or
 * cut when the sink is set to `subMillisecond=truncate`.
 */
function dateOf(value: unknown, column: ColumnInfo, options: EncodeOptions): Date {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new ValueError('an invalid date')
    return value
  }
  if (typeof value !== 'string') throw new ValueError(`${show(value)} is not a ${column.type}`)
  const text = column.type === 'timestamptz' ? (utcTimestamp(value)?.replace(/Z$/, '') ?? value) : value.trim()
  const m = timestampText.exec(text)
  if (!m) throw new ValueError(`${show(value)} is not a ${column.type}`)
  const fraction = (m[7] ?? '').replace(/0+$/, '')
  if (fraction.length > 3 && options.subMillisecond === 'refuse') {
    throw new ValueError(`${value} is more precise than the millisecond a MongoDB date holds (set subMillisecond=truncate on the target to cut the extra digits)`)
  }
  const date = new Date(0)
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  date.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  date.setUTCHours(Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), Number(fraction.slice(0, 3).padEnd(3, '0')))
  if (Number.isNaN(date.getTime())) throw new ValueError(`${value} is outside the dates MongoDB holds`)
  return date
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (value instanceof Uint8Array) return `${value.length} bytes`
  return typeof value === 'bigint' ? String(value) : `${typeof value} ${String(value)}`
}
