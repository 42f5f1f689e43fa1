/**
 * How each logical type is stored in Redis and read back exactly (see src/values.ts for the forms
 * values travel in):
 *
 * | logical | hash field, key part | JSON value |
 * |---|---|---|
 * | integer, bigint | decimal digits | number; a bigint beyond 2^53 as a string of digits |
 * | decimal | its text | string |
 * | float | shortest text that reads back the same double (`0.1`, `-0`, `NaN`, `Infinity`) | number; `-0`, NaN and ±Infinity as strings |
 * | boolean | `true` / `false` | true / false |
 * | text, uuid, date, timestamp | the text | string |
 * | timestamptz | UTC ISO text | string |
 * | json | JSON text | the value itself |
 * | bytes | the bytes themselves (hex in a key) | base64 string |
 *
 * NULL is a field left out of the hash (`null` in JSON); the empty string is an empty field. The
 * types are recorded in the pattern's schema record (redis-schema.ts), which readers decode by.
 */
import { isUtf8 } from 'node:buffer'
import { SinkWriteError } from '../../errors.js'
import type { ColumnInfo } from '../../types.js'
import { jsonText, naiveTimestamp, narrowInteger, parseJsonText, utcTimestamp } from '../../values.js'

const integerText = /^-?\d+$/
const numberText = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i

/** Throws the rejected-row error for a value the column's type cannot take. */
function refuse(column: ColumnInfo, value: unknown, what: string): never {
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value) : String(value)
  throw new SinkWriteError(`column \`${column.name}\` (${column.type}): ${shown} is not ${what}`, 'rejected')
}

function integer(value: unknown, column: ColumnInfo): string {
  if (typeof value === 'number' && Number.isInteger(value)) return String(value)
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'string' && integerText.test(value)) return value
  if (typeof value === 'boolean') return value ? '1' : '0'
  return refuse(column, value, 'a whole number')
}

function float(value: unknown, column: ColumnInfo): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value)
  if (typeof value === 'bigint') return String(Number(value))
  if (typeof value === 'string' && (numberText.test(value) || /^-?(Infinity|NaN)$/.test(value))) return String(Number(value))
  return refuse(column, value, 'a number')
}

function decimal(value: unknown, column: ColumnInfo): string {
  if (typeof value === 'string' && numberText.test(value.trim())) return value.trim()
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint') return String(value)
  return refuse(column, value, 'a decimal number')
}

function boolean(value: unknown, column: ColumnInfo): boolean {
  if (typeof value === 'boolean') return value
  if (value === 0 || value === 1 || value === 0n || value === 1n) return Number(value) === 1
  if (value === '0' || value === '1' || value === 'true' || value === 'false') return value === '1' || value === 'true'
  return refuse(column, value, 'a boolean')
}

function text(value: unknown, column: ColumnInfo): string {
  switch (column.type) {
    case 'date':
      if (value instanceof Date) return value.toISOString().slice(0, 10)
      break
    case 'timestamp':
      return naiveTimestamp(value) ?? refuse(column, value, 'a timestamp')
    case 'timestamptz':
      return utcTimestamp(value) ?? refuse(column, value, 'a timestamp with a time zone (or one given in UTC)')
  }
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value)
  return refuse(column, value, 'text')
}

const asBuffer = (v: Uint8Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength)

/** A non-null value as a hash field holds it. */
export function fieldValue(value: unknown, column: ColumnInfo): string | Buffer {
  switch (column.type) {
    case 'integer':
    case 'bigint':
      return integer(value, column)
    case 'float':
      return float(value, column)
    case 'decimal':
      return decimal(value, column)
    case 'boolean':
      return boolean(value, column) ? 'true' : 'false'
    case 'json':
      return jsonText(value)
    case 'bytes':
      if (value instanceof Uint8Array) return asBuffer(value)
      return typeof value === 'string' ? Buffer.from(value) : refuse(column, value, 'bytes')
    default:
      return text(value, column)
  }
}

/** A key column's value as it appears in the key: the field's text, bytes in hex. */
export function keyPartText(value: unknown, column: ColumnInfo): string {
  if (column.type === 'bytes') return Buffer.from(fieldValue(value, column)).toString('hex')
  if (column.type === 'json') refuse(column, value, 'a value a key can hold (a JSON column cannot be part of a Redis key)')
  const v = fieldValue(value, column)
  return typeof v === 'string' ? v : v.toString('utf8')
}

/** A non-null value as a JSON-format row holds it. */
export function jsonValue(value: unknown, column: ColumnInfo): unknown {
  switch (column.type) {
    case 'integer':
    case 'bigint': {
      const digits = integer(value, column)
      const n = Number(digits)
      return Number.isSafeInteger(n) ? n : digits
    }
    case 'float': {
      const n = Number(float(value, column))
      return Number.isFinite(n) && !Object.is(n, -0) ? n : String(Object.is(n, -0) ? '-0' : n)
    }
    case 'boolean':
      return boolean(value, column)
    case 'json':
      return value
    case 'bytes':
      return Buffer.from(fieldValue(value, column)).toString('base64')
    default:
      return fieldValue(value, column)
  }
}

/** Why a stored value cannot be read as its column's type. */
export class DecodeError extends Error {}

/** A hash field (or key part, `fromKey`) back in the column's in-flight form. */
export function fromField(raw: Buffer | string, column: ColumnInfo, fromKey = false): unknown {
  if (column.type === 'bytes') {
    if (!fromKey) return typeof raw === 'string' ? Buffer.from(raw) : raw
    const hex = raw.toString()
    if (!/^(?:[0-9a-f]{2})*$/i.test(hex)) throw new DecodeError(`\`${hex}\` is not hex bytes`)
    return Buffer.from(hex, 'hex')
  }
  const text = typeof raw === 'string' ? raw : utf8(raw)
  return fromText(text, column)
}

/** Text as the column's type says. */
function fromText(text: string, column: ColumnInfo): unknown {
  switch (column.type) {
    case 'integer':
      if (!integerText.test(text)) throw new DecodeError(`\`${text}\` is not a whole number`)
      return Number(text)
    case 'bigint':
      if (!integerText.test(text)) throw new DecodeError(`\`${text}\` is not a whole number`)
      return narrowInteger(BigInt(text))
    case 'float': {
      const n = Number(text)
      if (Number.isNaN(n) && text !== 'NaN') throw new DecodeError(`\`${text}\` is not a number`)
      return n
    }
    case 'boolean':
      if (text === 'true' || text === '1') return true
      if (text === 'false' || text === '0') return false
      throw new DecodeError(`\`${text}\` is not a boolean`)
    case 'json':
      return parseJsonText(text)
    default:
      return text
  }
}

/** A JSON-format row's value back in the column's in-flight form. */
export function fromJson(value: unknown, column: ColumnInfo): unknown {
  if (value === null || value === undefined) return null
  if (column.type === 'json') return value
  if (column.type === 'bytes') {
    if (typeof value !== 'string') throw new DecodeError(`${JSON.stringify(value)} is not base64 bytes`)
    return Buffer.from(value, 'base64')
  }
  if (typeof value === 'object') throw new DecodeError(`${JSON.stringify(value)} is not a ${column.type}`)
  if (column.type === 'decimal' && typeof value === 'number') return String(value)
  if (typeof value === 'number' && (column.type === 'integer' || column.type === 'float')) return value
  return fromText(String(value), column)
}

/** UTF-8 text of stored bytes; bytes that are not UTF-8 would silently become U+FFFD, so they are an error. */
export function utf8(raw: Buffer): string {
  if (!isUtf8(raw)) throw new DecodeError(`the bytes ${raw.subarray(0, 16).toString('hex')}${raw.length > 16 ? '…' : ''} are not UTF-8 text`)
  return raw.toString('utf8')
}

export { isUtf8 }
