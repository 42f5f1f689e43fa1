import type { ColumnInfo } from '../types.js'
import { jsonText, naiveTimestamp } from '../values.js'
import { type MssqlColumnDetails, parseNativeType } from './mssql-schema.js'
import { ExactDate, ExactDateTime2, ExactDateTimeOffset, ExactDecimal, ExactTime, type TdsType } from './mssql-tds.js'
import { codePageProblem } from './sql/charset.js'
import { unscaledDecimal } from './sql/decimal.js'

/** tedious' own types that ferry uses as they are, by their name in tedious' `TYPES`. */
export type TediousTypeName =
  | 'TinyInt'
  | 'SmallInt'
  | 'Int'
  | 'BigInt'
  | 'Bit'
  | 'Float'
  | 'Real'
  | 'NVarChar'
  | 'VarChar'
  | 'NChar'
  | 'Char'
  | 'VarBinary'
  | 'Binary'
  | 'UniqueIdentifier'
  | 'DateTime'
  | 'SmallDateTime'

/**
 * How values of one SQL Server column travel: the TDS type they are declared and sent as (in a
 * bulk load or as a parameter), what the column cannot hold exactly, and the value as the type
 * takes it. The type follows the column's own (a varchar column gets varchar data), so that the
 * server converts nothing.
 */
export interface MssqlCodec {
  readonly type: TdsType | TediousTypeName
  /** Characters or bytes of a sized type; 65535 stands for max. */
  readonly length?: number
  readonly precision?: number
  readonly scale?: number
  /** Why the column cannot hold the (non-null) value exactly, or undefined. */
  readonly check: (value: unknown) => string | undefined
  /** The (non-null) value in the form the type's `validate` takes. */
  readonly encode: (value: unknown) => unknown
}

/** tedious' length for `max`: anything above 4000 (8000 for bytes) is sent as max. */
export const MAX = 65535

const show = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : typeof v === 'bigint' ? `${v}` : String(v))
const same = (v: unknown) => v

function integer(name: TediousTypeName, min: bigint, max: bigint): MssqlCodec {
  return {
    type: name,
    check: (v) => {
      const n = typeof v === 'bigint' ? v : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : typeof v === 'string' && /^-?\d+$/.test(v) ? BigInt(v) : undefined
      return n !== undefined && n >= min && n <= max ? undefined : `${show(v)} is not an integer from ${min} to ${max}`
    },
    encode: (v) => (name === 'BigInt' ? BigInt(v as number) : Number(v)),
  }
}

function decimal(precision: number, scale: number): MssqlCodec {
  return {
    type: ExactDecimal,
    precision,
    scale,
    check: (v) => {
      if (typeof v !== 'string' && typeof v !== 'bigint' && !(typeof v === 'number' && Number.isFinite(v))) return `${show(v)} is not a decimal number`
      try {
        unscaledDecimal(String(v), precision, scale)
        return undefined
      } catch (err) {
        return `${(err as Error).message} (the column is decimal(${precision},${scale}))`
      }
    },
    encode: (v) => String(v),
  }
}

/** A tedious or ferry type whose `validate` refuses what it cannot send; `encode` prepares the value. */
function validated(type: TdsType, sizes: Pick<MssqlCodec, 'precision' | 'scale'>, encode: (v: unknown) => unknown = same): MssqlCodec {
  return {
    type,
    ...sizes,
    check: (v) => {
      try {
        type.validate(encode(v))
        return undefined
      } catch (err) {
        return (err as Error).message
      }
    },
    encode,
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

function text(column: ColumnInfo, name: TediousTypeName, size: number | 'max' | undefined, fits: (text: string) => string | undefined): MssqlCodec {
  const fixed = name === 'Char' || name === 'NChar'
  return {
    type: name,
    length: size === 'max' || size === undefined ? MAX : size,
    check: (v) => {
      if (v instanceof Uint8Array) return 'bytes are not text'
      const t = textOf(v, column)
      // char(n) pads a shorter value with spaces: it would not come back as it went.
      if (fixed && typeof size === 'number' && t.length !== size) return `${show(t)} is not ${size} characters long (char(${size}) pads shorter values with spaces)`
      return fits(t)
    },
    encode: (v) => textOf(v, column),
  }
}

function lengthProblem(length: number, size: number | 'max' | undefined, unit: string): string | undefined {
  return typeof size === 'number' && length > size ? `the value is ${length} ${unit} long, more than the ${size} the column holds` : undefined
}

function bytes(name: 'VarBinary' | 'Binary', size: number | 'max' | undefined): MssqlCodec {
  return {
    type: name,
    length: size === 'max' || size === undefined ? MAX : size,
    check: (v) => {
      if (!(v instanceof Uint8Array)) return `${show(v)} is not bytes`
      if (name === 'Binary' && typeof size === 'number' && v.byteLength !== size) {
        return `the value is ${v.byteLength} bytes long and binary(${size}) pads shorter values with zeros`
      }
      return lengthProblem(v.byteLength, size, 'bytes')
    },
    encode: (v) => Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength),
  }
}

/** A naive timestamp as a Date in UTC, as tedious' datetime types take it (the session uses UTC). */
const utcDate = (v: unknown) => new Date(`${naiveTimestamp(v)!.replace(' ', 'T')}Z`)

function legacyTimestamp(name: 'DateTime' | 'SmallDateTime'): MssqlCodec {
  return {
    type: name,
    check: (v) => {
      const t = naiveTimestamp(v)
      const m = t && /^(\d{4})-\d\d-\d\d \d\d:\d\d:(\d\d)(?:\.(\d+))?$/.exec(t)
      if (!m) return `${show(v)} is not a timestamp`
      const [year, seconds, fraction = ''] = [Number(m[1]), m[2]!, m[3]]
      if (name === 'SmallDateTime') {
        if (seconds !== '00' || fraction) return `${t} has seconds, which smalldatetime rounds to the minute`
        return year < 1900 || year > 2079 ? `${t} is outside smalldatetime's 1900-2079` : undefined
      }
      // datetime keeps 1/300 s: .xx0, .xx3 and .xx7 come back as they went, other values are rounded.
      if (fraction.length > 3 || !/[037]$/.test(fraction.padEnd(3, '0'))) return `${t} is more precise than datetime's 1/300 s (.000, .003, .007)`
      return year < 1753 ? `${t} is before datetime's 1753` : undefined
    },
    encode: utcDate,
  }
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The codec of a column, from its SQL Server type (and, for varchar, its code page). */
export function codecFor(column: ColumnInfo, details?: MssqlColumnDetails): MssqlCodec {
  const { base, size, scale } = parseNativeType(column.nativeType)
  switch (base) {
    case 'tinyint':
      return integer('TinyInt', 0n, 255n)
    case 'smallint':
      return integer('SmallInt', -32768n, 32767n)
    case 'int':
      return integer('Int', -(2n ** 31n), 2n ** 31n - 1n)
    case 'bigint':
      return integer('BigInt', -(2n ** 63n), 2n ** 63n - 1n)
    case 'bit':
      return { type: 'Bit', check: (v) => (typeof v === 'boolean' || v === 0 || v === 1 ? undefined : `${show(v)} is not a boolean`), encode: (v) => v === true || v === 1 }
    case 'decimal':
    case 'numeric':
      return decimal(typeof size === 'number' ? size : 18, scale ?? 0)
    case 'money':
      return decimal(19, 4)
    case 'smallmoney':
      return decimal(10, 4)
    case 'float':
    case 'real':
      return {
        type: base === 'real' ? 'Real' : 'Float',
        check: (v) => (typeof v === 'number' && Number.isFinite(v) ? undefined : `${show(v)} is not a finite number (SQL Server's float holds no NaN or infinity)`),
        encode: same,
      }
    case 'nvarchar':
    case 'nchar':
    case 'ntext':
    case 'xml':
    case 'sysname':
      return text(column, base === 'nchar' ? 'NChar' : 'NVarChar', base === 'sysname' ? 128 : base === 'ntext' || base === 'xml' ? 'max' : size, (t) => lengthProblem(t.length, size, 'UTF-16 units'))
    case 'varchar':
    case 'char':
    case 'text': {
      const codePage = details?.codePage
      const length = (t: string) => (codePage === 65001 ? Buffer.byteLength(t) : t.length)
      return text(column, base === 'char' ? 'Char' : 'VarChar', base === 'text' ? 'max' : size, (t) => codePageProblem(t, codePage, 'use nvarchar') ?? lengthProblem(length(t), size, codePage === 65001 ? 'bytes' : 'characters'))
    }
    case 'varbinary':
    case 'image':
      return bytes('VarBinary', base === 'image' ? 'max' : size)
    case 'binary':
      return bytes('Binary', size)
    case 'uniqueidentifier':
      return { type: 'UniqueIdentifier', check: (v) => (typeof v === 'string' && uuidPattern.test(v) ? undefined : `${show(v)} is not a UUID`), encode: (v) => (v as string).toLowerCase() }
    case 'date':
      return validated(ExactDate, {})
    case 'datetime2':
      return validated(ExactDateTime2, { scale: scale ?? 7 }, (v) => ExactDateTime2.validate(v))
    case 'datetimeoffset':
      return validated(ExactDateTimeOffset, { scale: scale ?? 7 }, (v) => ExactDateTimeOffset.validate(v))
    case 'time':
      return validated(ExactTime, { scale: scale ?? 7 })
    case 'datetime':
      return legacyTimestamp('DateTime')
    case 'smalldatetime':
      return legacyTimestamp('SmallDateTime')
    default:
      return {
        type: 'NVarChar',
        length: MAX,
        check: () => `ferry does not write SQL Server \`${base}\` columns`,
        encode: same,
      }
  }
}

/** The codec of a parameter with no column to follow (a row count, a limit): by its JavaScript type. */
export function plainCodec(value: unknown): MssqlCodec {
  if (typeof value === 'number' && Number.isInteger(value)) return Math.abs(value) < 2 ** 31 ? integer('Int', -(2n ** 31n), 2n ** 31n - 1n) : integer('BigInt', -(2n ** 63n), 2n ** 63n - 1n)
  if (typeof value === 'bigint') return integer('BigInt', -(2n ** 63n), 2n ** 63n - 1n)
  if (typeof value === 'number') return { type: 'Float', check: () => undefined, encode: same }
  if (typeof value === 'boolean') return { type: 'Bit', check: () => undefined, encode: same }
  if (value instanceof Uint8Array) return bytes('VarBinary', 'max')
  return { type: 'NVarChar', check: () => undefined, encode: (v) => String(v) }
}
