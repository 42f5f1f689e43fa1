import type { ColumnInfo } from '../types.js'
import { type Check, jsonText, naiveTimestamp, utcTimestamp } from '../values.js'
import { codePageProblem } from './sql/charset.js'
import { significantDigits, unscaledDecimal } from './sql/decimal.js'

/** oracledb's bind types ferry uses, by their name on the driver (`oracledb.DB_TYPE_VARCHAR`). */
export type OracleBindType =
  | 'DB_TYPE_VARCHAR'
  | 'DB_TYPE_NVARCHAR'
  | 'DB_TYPE_CLOB'
  | 'DB_TYPE_NCLOB'
  | 'DB_TYPE_LONG'
  | 'DB_TYPE_RAW'
  | 'DB_TYPE_BLOB'
  | 'DB_TYPE_LONG_RAW'
  | 'DB_TYPE_BINARY_DOUBLE'
  | 'DB_TYPE_BINARY_FLOAT'
  | 'DB_TYPE_BOOLEAN'
  | 'DB_TYPE_JSON'

/**
 * How values of one Oracle column are bound in `executeMany`: the bind type (strings and bytes
 * need a `maxSize`), the SQL that reads the bind into the column's type with an explicit format
 * (never the session's NLS settings), what the column cannot hold exactly, and the bind value.
 */
export interface OracleBind {
  readonly type: OracleBindType
  /** Whether the bind needs a `maxSize` (the longest value of the batch, in bytes). */
  readonly sized: boolean
  readonly sql: (placeholder: string) => string
  readonly check: Check
  readonly encode: (value: unknown) => unknown
}

const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : typeof v === 'bigint' ? `${v}` : String(v))
const same = (v: unknown) => v
const bind = (p: string) => p
const emptyText = "'' is NULL in Oracle: an empty string would come back as NULL (a transform can write null, or a placeholder, instead)"

export const dateFormat = 'YYYY-MM-DD HH24:MI:SS'
export const timestampFormat = 'YYYY-MM-DD HH24:MI:SS.FF9'
export const timestampTzFormat = 'YYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM'

/** `'12.5'`, `12.5`, `12n`, `true` as the text TO_NUMBER reads (booleans as 1 and 0). */
function numberText(value: unknown): string | undefined {
  if (typeof value === 'boolean') return value ? '1' : '0'
  if (typeof value === 'bigint' || (typeof value === 'number' && Number.isFinite(value))) return String(value)
  return typeof value === 'string' && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value.trim()) ? value.trim() : undefined
}

/**
 * NUMBER(p,s) rounds extra digits after the point without an error, and NUMBER without a precision
 * keeps 38 significant digits (and magnitudes from 1e-130 to below 1e126): refuse what it would change.
 */
function numberCheck(nativeType: string): Check {
  const m = /^NUMBER\((\d+|\*)(?:,(-?\d+))?\)$/.exec(nativeType)
  const float = /^FLOAT\((\d+)\)$/.exec(nativeType)
  return (v) => {
    const text = numberText(v)
    if (text === undefined) return `${show(v)} is not a number`
    if (m && m[1] !== '*' && Number(m[2] ?? 0) >= 0) {
      try {
        unscaledDecimal(text, Number(m[1]), Number(m[2] ?? 0))
        return undefined
      } catch (err) {
        return `${(err as Error).message} (the column is ${nativeType})`
      }
    }
    if (m?.[1] === '*' && m[2] === '0' && !/^[+-]?\d+$/.test(text)) return `${text} is not an integer (the column is ${nativeType})`
    const digits = float ? Math.ceil(Number(float[1]) * 0.30103) : 38
    const significant = significantDigits(text)
    if (!significant) return undefined
    if (significant.count > digits) return `${text} has more than the ${digits} significant digits ${nativeType} keeps`
    return significant.magnitude < -130 || significant.magnitude > 125 ? `${text} is beyond the range of Oracle's NUMBER` : undefined
  }
}

/** Text of a text column: strings as they are; numbers and parsed JSON as their text. */
function textOf(value: unknown, column: ColumnInfo): string {
  if (column.type === 'json') return jsonText(value)
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value)
  if (value instanceof Date) return value.toISOString()
  return jsonText(value)
}

function text(column: ColumnInfo, type: OracleBindType, codePage: number | undefined): OracleBind {
  // CHAR(n) pads a shorter value with blanks: it would not come back as it went.
  const char = /^N?CHAR\((\d+)(?: (CHAR|BYTE))?\)$/.exec(column.nativeType)
  return {
    type,
    sized: type === 'DB_TYPE_VARCHAR' || type === 'DB_TYPE_NVARCHAR',
    sql: bind,
    check: (v) => {
      if (v instanceof Uint8Array) return 'bytes are not text'
      const t = textOf(v, column)
      if (t === '') return emptyText
      if (char) {
        const length = char[2] === 'BYTE' ? Buffer.byteLength(t) : [...t].length
        if (length !== Number(char[1])) return `${show(t)} is not ${char[1]} long (${column.nativeType} pads shorter values with blanks)`
      }
      // NVARCHAR2 and NCLOB are Unicode whatever the database character set.
      return type === 'DB_TYPE_NVARCHAR' || type === 'DB_TYPE_NCLOB' ? undefined : codePageProblem(t, codePage, 'use NVARCHAR2 or NCLOB')
    },
    encode: (v) => textOf(v, column),
  }
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function bytes(column: ColumnInfo, type: OracleBindType): OracleBind {
  const uuid = column.type === 'uuid'
  return {
    type,
    sized: type === 'DB_TYPE_RAW',
    sql: bind,
    check: (v) => {
      if (uuid) return typeof v === 'string' && uuidPattern.test(v) ? undefined : `${show(v)} is not a UUID`
      if (!(v instanceof Uint8Array)) return `${show(v)} is not bytes`
      return v.byteLength === 0 ? 'zero bytes are NULL in Oracle: an empty value would come back as NULL' : undefined
    },
    encode: (v) =>
      typeof v === 'string' ? Buffer.from(v.replaceAll('-', ''), 'hex') : Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength),
  }
}

/** A timestamp's text for TO_TIMESTAMP: the fraction padded to nine digits. */
function withNanos(text: string): string {
  const [time, fraction = ''] = text.split('.')
  return `${time}.${fraction.padEnd(9, '0')}`
}

/** The naive text of a date or timestamp, `YYYY-MM-DD HH:MM:SS[.f]`; a date is at midnight. */
export function naiveText(value: unknown): string | undefined {
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\d$/.test(value)) return `${value} 00:00:00`
  return naiveTimestamp(value)
}

/** `YYYY-MM-DD HH:MM:SS.fffffffff +00:00`, the instant in UTC. */
export function utcText(value: unknown): string | undefined {
  const iso = utcTimestamp(value)
  return iso && `${withNanos(iso.slice(0, -1).replace('T', ' '))} +00:00`
}

function datetime(convert: string, format: string, toText: (v: unknown) => string | undefined, pad: boolean): OracleBind {
  return {
    type: 'DB_TYPE_VARCHAR',
    sized: true,
    sql: (p) => `${convert}(${p}, '${format}')`,
    check: (v) => {
      const t = toText(v)
      return t === undefined || !/^\d{4}-/.test(t) ? `${show(v)} is not a timestamp Oracle holds` : undefined
    },
    encode: (v) => (pad ? withNanos(toText(v)!) : toText(v)),
  }
}

/** The bind of a column, from its Oracle type (and the database character set's code page). */
export function bindFor(column: ColumnInfo, codePage?: number): OracleBind {
  const t = column.nativeType.toUpperCase()
  if (t.startsWith('NUMBER') || t.startsWith('FLOAT')) {
    return { type: 'DB_TYPE_VARCHAR', sized: true, sql: (p) => `TO_NUMBER(${p})`, check: numberCheck(t), encode: (v) => numberText(v) }
  }
  if (t === 'BINARY_DOUBLE' || t === 'BINARY_FLOAT') {
    const check: Check = (v) => (typeof v === 'number' ? undefined : `${show(v)} is not a number`)
    return { type: t === 'BINARY_DOUBLE' ? 'DB_TYPE_BINARY_DOUBLE' : 'DB_TYPE_BINARY_FLOAT', sized: false, sql: bind, check, encode: same }
  }
  if (/^(VARCHAR2|CHAR)\b/.test(t)) return text(column, 'DB_TYPE_VARCHAR', codePage)
  if (/^(NVARCHAR2|NCHAR)\b/.test(t)) return text(column, 'DB_TYPE_NVARCHAR', codePage)
  if (t === 'CLOB') return text(column, 'DB_TYPE_CLOB', codePage)
  if (t === 'NCLOB') return text(column, 'DB_TYPE_NCLOB', codePage)
  if (t === 'LONG') return text(column, 'DB_TYPE_LONG', codePage)
  if (t === 'DATE') return datetime('TO_DATE', dateFormat, naiveText, false)
  if (/^TIMESTAMP(\(\d\))?$/.test(t)) return datetime('TO_TIMESTAMP', timestampFormat, naiveText, true)
  if (/^TIMESTAMP(\(\d\))? WITH (LOCAL )?TIME ZONE$/.test(t)) return datetime('TO_TIMESTAMP_TZ', timestampTzFormat, utcText, false)
  if (t.startsWith('RAW')) return bytes(column, 'DB_TYPE_RAW')
  if (t === 'BLOB') return bytes(column, 'DB_TYPE_BLOB')
  if (t === 'LONG RAW') return bytes(column, 'DB_TYPE_LONG_RAW')
  if (t === 'JSON') return { type: 'DB_TYPE_JSON', sized: false, sql: bind, check: () => undefined, encode: same }
  if (t === 'BOOLEAN') {
    return { type: 'DB_TYPE_BOOLEAN', sized: false, sql: bind, check: (v) => (typeof v === 'boolean' ? undefined : `${show(v)} is not a boolean`), encode: same }
  }
  return { type: 'DB_TYPE_VARCHAR', sized: true, sql: bind, check: () => `ferry does not write Oracle \`${column.nativeType}\` columns`, encode: same }
}

/**
 * A key value as a parameter of a read (keyset bounds, lookups), compared with its column by
 * Oracle's implicit conversion under the session's NLS formats (set when the connection opens).
 */
export function paramValue(value: unknown, column: ColumnInfo): unknown {
  if (value === null || value === undefined) return null
  const t = column.nativeType.toUpperCase()
  if (typeof value === 'boolean') return t === 'BOOLEAN' ? value : value ? 1 : 0
  if (t === 'DATE') return naiveText(value) ?? value
  if (/^TIMESTAMP(\(\d\))?$/.test(t)) {
    const text = naiveText(value)
    return text ? withNanos(text) : value
  }
  if (/^TIMESTAMP(\(\d\))? WITH (LOCAL )?TIME ZONE$/.test(t)) return utcText(value) ?? value
  if (t.startsWith('RAW') && column.type === 'uuid' && typeof value === 'string') return Buffer.from(value.replaceAll('-', ''), 'hex')
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) return Buffer.from(value)
  return value
}
