/**
 * Values ↔ `_source` JSON. Elasticsearch keeps a document's `_source` as it was sent and indexes
 * each field as its mapping says: ferry writes every value as JSON that reads back exactly (a
 * bigint as its digits, a decimal as its digits, `-0` as `-0.0`, bytes as base64, timestamps as
 * ISO 8601 text with every digit of their fraction) and reads `_source` back into the shared forms
 * of src/values.ts, by the column's logical type.
 */
import type { ColumnInfo } from '../../types.js'
import { naiveTimestamp, narrowInteger, utcTimestamp } from '../../values.js'
import { jsonText } from './elasticsearch-json.js'

/** Why a value cannot be written or read as its column says; a refused row (writes) or a stopped read. */
export class ValueError extends Error {}

/** JSON text of a value that is not NULL. */
export type Encoder = (value: unknown) => string

/** Field types that read a JSON number; a decimal goes to them as a number, to others as text. */
const numericFields = new Set(['long', 'integer', 'short', 'byte', 'unsigned_long', 'double', 'float', 'half_float', 'scaled_float'])

const plainNumber = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/

/** How a column's values are written into a field of type `field` (undefined: the column's own mapping). */
export function encoderFor(column: ColumnInfo, field: string | undefined): Encoder {
  switch (column.type) {
    case 'integer':
    case 'bigint':
      return wholeNumber
    case 'decimal':
      return field !== undefined && numericFields.has(field) ? decimalNumber : (v) => JSON.stringify(String(v))
    case 'float':
      return floatNumber
    case 'boolean':
      return (v) => (typeof v === 'boolean' ? String(v) : String(Number(v) !== 0))
    case 'date':
      return (v) => JSON.stringify(v instanceof Date ? v.toISOString().slice(0, 10) : String(v))
    case 'timestamp':
      // `date` fields take ISO 8601 with a T, not a space; a naive time is read as UTC.
      return (v) => JSON.stringify(checked(naiveTimestamp(v), v).replace(' ', 'T'))
    case 'timestamptz':
      return (v) => JSON.stringify(checked(utcTimestamp(v), v))
    case 'json':
      return jsonText
    case 'bytes':
      return (v) => JSON.stringify(Buffer.from(v as Uint8Array).toString('base64'))
    default:
      return (v) => JSON.stringify(typeof v === 'string' ? v : String(v))
  }
}

function checked(text: string | undefined, value: unknown): string {
  if (text === undefined) throw new ValueError(`${String(value)} is not a timestamp`)
  return text
}

function wholeNumber(v: unknown): string {
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v)
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return v
  throw new ValueError(`${String(v)} is not a whole number`)
}

function floatNumber(v: unknown): string {
  const n = typeof v === 'bigint' ? v : Number(v)
  if (typeof n === 'bigint') return n.toString()
  if (!Number.isFinite(n)) throw new ValueError(`${String(v)} has no JSON form (Elasticsearch keeps finite numbers only)`)
  // JSON.stringify(-0) is "0": the sign would be lost.
  return Object.is(n, -0) ? '-0.0' : JSON.stringify(n)
}

/** A decimal's digits as a JSON number, trailing zeros after the point left out (a `long` takes `12`, not `12.0`). */
function decimalNumber(v: unknown): string {
  const text = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v)
  if (!plainNumber.test(text)) throw new ValueError(`${String(v)} is not a decimal number`)
  return text.includes('.') && !/e/i.test(text) ? text.replace(/\.?0+$/, '') : text
}

/** A `_source` value → the shared form of the column's type; throws `ValueError` when it is not one. */
export function decoderFor(column: ColumnInfo): (value: unknown) => unknown {
  const decode = decoders[column.type]
  if (column.type === 'json') return decode
  return (value) => {
    if (typeof value === 'object' && value !== null) {
      throw new ValueError(Array.isArray(value) ? `holds ${value.length} values (an array), where the column takes one` : 'holds an object, where the column takes one value')
    }
    return column.type === 'decimal' ? decimalText(value, column.scale) : decode(value)
  }
}

const decoders: Record<ColumnInfo['type'], (value: unknown) => unknown> = {
  integer: integer,
  bigint: integer,
  decimal: (v) => v,
  float: (v) => (typeof v === 'number' ? v : typeof v === 'bigint' || (typeof v === 'string' && plainNumber.test(v)) ? Number(v) : wrong(v, 'a number')),
  boolean: (v) => (typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : wrong(v, 'true or false')),
  text: (v) => (typeof v === 'string' ? v : String(v)),
  uuid: (v) => (typeof v === 'string' ? v : wrong(v, 'a UUID')),
  date: (v) => (typeof v === 'string' && /^\d{4}-\d\d-\d\d/.test(v) ? v.slice(0, 10) : wrong(v, 'a date')),
  timestamp: (v) => naiveTimestamp(instant(v)) ?? wrong(v, 'a timestamp'),
  timestamptz: (v) => utcTimestamp(instant(v)) ?? wrong(v, 'a timestamp'),
  json: (v) => v,
  bytes: (v) => (typeof v === 'string' ? Buffer.from(v, 'base64') : wrong(v, 'base64 text')),
  geometry: (v) => wrong(v, 'a geometry'),
}

function integer(v: unknown): unknown {
  if (typeof v === 'number' && Number.isInteger(v)) return v
  if (typeof v === 'bigint') return narrowInteger(v)
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return narrowInteger(BigInt(v))
  return wrong(v, 'a whole number')
}

/** Epoch milliseconds (a number, or digits: a `date` field's other default format) as a Date; text as it is. */
function instant(v: unknown): unknown {
  if (typeof v === 'number' || (typeof v === 'string' && /^-?\d+$/.test(v))) return new Date(Number(v))
  return v
}

/**
 * A decimal as its text: a number (from a `scaled_float`, whose `_source` ferry writes as digits)
 * with the column's scale, so that `123.40` reads back as it was; text as it is.
 */
function decimalText(v: unknown, scale: number | undefined): string {
  if (typeof v === 'string') return v
  if (typeof v === 'bigint') return v.toString()
  if (typeof v !== 'number' || !Number.isFinite(v)) return wrong(v, 'a decimal')
  if (scale !== undefined && scale <= 20 && Math.abs(v) < 1e21) return v.toFixed(scale)
  return String(v)
}

function wrong(v: unknown, what: string): never {
  throw new ValueError(`${JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))} is not ${what}`)
}
