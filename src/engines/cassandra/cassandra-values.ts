import cassandra from 'cassandra-driver'
import type { ColumnInfo } from '../../types.js'
import { jsonText, naiveTimestamp, narrowInteger, parseJsonText, utcTimestamp } from '../../values.js'
import { fromCollection, Refusal, toCollection } from './cassandra-collections.js'
import { decimalBytes, decimalFromBytes, instantText, parseDecimal, sameNumber, wholeNumber } from './cassandra-numbers.js'
import { codes, type CqlType } from './cassandra-schema.js'

const { types } = cassandra

export { Refusal }

const refuse = (reason: string): never => {
  throw new Refusal(reason)
}

/** Turns a driver value of the type into ferry's form of the column's logical type (src/values.ts). */
export function decodeValue(value: unknown, type: CqlType, column: Pick<ColumnInfo, 'type'>): unknown {
  if (value === null || value === undefined) return null
  switch (type.code) {
    case codes.bigint:
    case codes.counter:
      return narrowInteger(value as bigint)
    case codes.varint:
      return String(value)
    case codes.decimal:
      return decimalFromBytes(types.BigDecimal.toBuffer(value as cassandra.types.BigDecimal))
    case codes.timestamp:
      return column.type === 'timestamp' ? naiveTimestamp(instantText(value as Date)) : utcTimestamp(instantText(value as Date))
    case codes.uuid:
    case codes.timeuuid:
    case codes.date:
    case codes.time:
    case codes.inet:
    case codes.duration:
      return String(value)
    case codes.text:
    case codes.varchar:
    case codes.ascii:
      return column.type === 'json' ? parseJsonText(value as string) : value
    default:
      return type.code >= codes.list || type.code === codes.custom ? fromCollection(value, type) : value
  }
}

const ranges: Partial<Record<number, readonly [number, number]>> = {
  [codes.int]: [-(2 ** 31), 2 ** 31 - 1],
  [codes.smallint]: [-(2 ** 15), 2 ** 15 - 1],
  [codes.tinyint]: [-(2 ** 7), 2 ** 7 - 1],
}

/** An integer from a number, bigint or decimal text; refused when it has a fraction or lies outside [min, max]. */
function integer(value: unknown, min: bigint, max: bigint, name: string): bigint {
  const n = typeof value === 'bigint' ? value : typeof value === 'number' ? (Number.isInteger(value) ? BigInt(value) : undefined) : typeof value === 'string' ? wholeNumber(value) : undefined
  if (n === undefined) return refuse(`${show(value)} is not a whole number, which ${name} holds`)
  if (n < min || n > max) return refuse(`${show(value)} is out of the range of ${name} (${min} to ${max})`)
  return n
}

/**
 * A value of ferry's forms as the driver writes it into a column of the type, exactly, or a
 * `Refusal` saying why not: never rounded, truncated or reinterpreted.
 */
export function encodeValue(value: unknown, type: CqlType, column: Pick<ColumnInfo, 'type'>): unknown {
  if (value === null || value === undefined) return null
  const range = ranges[type.code]
  if (range) return Number(integer(value, BigInt(range[0]), BigInt(range[1]), names[type.code]!))
  switch (type.code) {
    case codes.bigint:
    case codes.counter:
      return integer(value, -(2n ** 63n), 2n ** 63n - 1n, 'a bigint')
    case codes.varint:
      return integer(value, -(2n ** 1_000_000n), 2n ** 1_000_000n, 'a varint')
    case codes.decimal:
      return decimal(value)
    case codes.double:
    case codes.float:
      return float(value)
    case codes.boolean:
      if (typeof value === 'boolean') return value
      if (value === 0 || value === 1 || value === 0n || value === 1n) return value == 1
      return refuse(`${show(value)} is not a boolean`)
    case codes.text:
    case codes.varchar:
    case codes.ascii:
      return text(value, type, column)
    case codes.blob:
      return value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : refuse(`${show(value)} is not bytes, which a blob holds`)
    case codes.uuid:
    case codes.timeuuid:
      return uuid(value, type.code === codes.timeuuid)
    case codes.timestamp:
      return timestamp(value)
    case codes.date:
      return date(value)
    case codes.time:
      return parsed(value, (s) => types.LocalTime.fromString(s), 'a time (HH:MM:SS.fffffffff)')
    case codes.inet:
      return parsed(value, (s) => types.InetAddress.fromString(s), 'an IP address')
    case codes.duration:
      return parsed(value, (s) => types.Duration.fromString(s), 'a duration (1h30m, P1DT2H)')
    default:
      return toCollection(typeof value === 'string' ? parseJsonText(value) : value, type, (v, t) => encodeValue(v, t, { type: 'text' }))
  }
}

const names: Partial<Record<number, string>> = { [codes.int]: 'an int', [codes.smallint]: 'a smallint', [codes.tinyint]: 'a tinyint' }

function decimal(value: unknown): Buffer {
  if (typeof value === 'number' && !Number.isFinite(value)) return refuse(`${value} is not a number a decimal can hold`)
  const bytes = typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' ? decimalBytes(String(value)) : undefined
  return bytes ?? refuse(`${show(value)} is not a decimal number`)
}

function float(value: unknown): number {
  if (typeof value === 'number') return value
  if (typeof value === 'bigint' && BigInt(Number(value)) === value) return Number(value)
  if (typeof value === 'string') {
    const n = Number(value)
    if (/^[+-]?(NaN|Infinity)$/.test(value.trim())) return n
    if (Number.isFinite(n) && parseDecimal(value) && sameNumber(String(n), value)) return n
  }
  return refuse(`${show(value)} is not a number a double holds exactly`)
}

function text(value: unknown, type: CqlType, column: Pick<ColumnInfo, 'type'>): string {
  // A JSON column kept as text holds the JSON text of its value, strings included.
  const out = column.type === 'json' ? jsonText(value) : typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean' ? String(value) : refuse(`${show(value)} is not text`)
  // The driver would write any other character as '?'.
  if (type.code === codes.ascii && !/^[\x00-\x7f]*$/.test(out)) return refuse(`${show(value)} has characters beyond US-ASCII, which an ascii column cannot hold`)
  return out
}

function uuid(value: unknown, timeBased: boolean): cassandra.types.Uuid {
  const text = typeof value === 'string' ? value.trim() : undefined
  if (!text || !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text)) return refuse(`${show(value)} is not a UUID`)
  if (timeBased && text[14] !== '1') return refuse(`${text} is not a time-based (version 1) UUID, which a timeuuid column holds`)
  return types.Uuid.fromString(text.toLowerCase())
}

/** An instant in milliseconds: a wall-clock time without zone is read as UTC, as ferry's timestamps are. */
function timestamp(value: unknown): Date {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? refuse('an invalid Date') : value
  const text = typeof value === 'string' ? (/^\d{4,}-\d\d-\d\d$/.test(value.trim()) ? `${value.trim()}T00:00:00Z` : value) : undefined
  const utc = text === undefined ? undefined : utcTimestamp(text)
  const m = utc && /^(\d{4,})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?Z$/.exec(utc)
  if (!m) return refuse(`${show(value)} is not a timestamp with at most milliseconds`)
  const at = new Date(0)
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  at.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  at.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]), Number((m[7] ?? '').padEnd(3, '0')))
  return Number.isNaN(at.getTime()) ? refuse(`${show(value)} is beyond the dates JavaScript holds`) : at
}

function date(value: unknown): cassandra.types.LocalDate {
  const text = value instanceof Date ? utcTimestamp(value) : typeof value === 'string' ? value.trim() : undefined
  const m = text === undefined ? undefined : /^(-?\d{4,})-(\d\d)-(\d\d)(?:[T ]00:00(?::00(?:\.0*)?)?Z?)?$/.exec(text)
  if (!m) return refuse(`${show(value)} is not a date (or a timestamp at midnight)`)
  return parsed(`${m[1]}-${m[2]}-${m[3]}`, (s) => types.LocalDate.fromString(s), 'a date')
}

function parsed<T>(value: unknown, parse: (text: string) => T, what: string): T {
  if (typeof value !== 'string') return refuse(`${show(value)} is not ${what}`)
  try {
    return parse(value)
  } catch {
    return refuse(`${show(value)} is not ${what}`)
  }
}

export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
  if (value instanceof Uint8Array) return `${value.length} bytes`
  if (typeof value === 'bigint') return String(value)
  try {
    return jsonText(value)?.slice(0, 60) ?? String(value)
  } catch {
    return String(value)
  }
}
