import cassandra from 'cassandra-driver'
import { narrowInteger, utcTimestamp } from '../../values.js'
import { decimalFromBytes, instantText } from './cassandra-numbers.js'
import { codes, type CqlType, cqlTypeName } from './cassandra-schema.js'

const { types } = cassandra

/** A value a column cannot hold exactly: a rejected row, with the reason. */
export class Refusal extends Error {}

/**
 * Collections, tuples and user-defined types as JSON values, the way Cassandra's own `toJson`
 * writes them: lists and sets as arrays, maps as objects (keys as text), tuples as arrays, UDTs as
 * objects, blobs as `0x…` hex, timestamps as UTC ISO text; decimals as text and 64-bit integers as
 * bigints, so that no digit is lost on the way.
 */
export function fromCollection(value: unknown, type: CqlType): unknown {
  if (value === null || value === undefined) return null
  const inner = type.info
  switch (type.code) {
    case codes.list:
    case codes.set:
      return (value as unknown[]).map((v) => fromCollection(v, inner as CqlType))
    case codes.map: {
      const [keyType, valueType] = inner as [CqlType, CqlType]
      const entries = value instanceof Map ? [...value.entries()] : Object.entries(value as object)
      return Object.fromEntries(entries.map(([k, v]) => [keyText(fromCollection(k, keyType)), fromCollection(v, valueType)]))
    }
    case codes.tuple:
      return (value as cassandra.types.Tuple).elements.map((v, i) => fromCollection(v, (inner as CqlType[])[i]!))
    case codes.udt: {
      const fields = (inner as { fields: { name: string; type: CqlType }[] }).fields
      return Object.fromEntries(fields.map((f) => [f.name, fromCollection((value as Record<string, unknown>)[f.name], f.type)]))
    }
    case codes.bigint:
    case codes.counter:
    case codes.varint:
      return narrowInteger(value as bigint)
    case codes.decimal:
      return decimalFromBytes(types.BigDecimal.toBuffer(value as cassandra.types.BigDecimal))
    case codes.blob:
      return `0x${(value as Buffer).toString('hex')}`
    case codes.timestamp:
      return utcTimestamp(instantText(value as Date))
    case codes.custom:
      return Array.isArray(value) ? value : String(value)
    default:
      return typeof value === 'object' ? String(value) : value
  }
}

const keyText = (key: unknown): string => (typeof key === 'string' ? key : JSON.stringify(typeof key === 'bigint' ? String(key) : key))

type Scalar = (value: unknown, type: CqlType) => unknown

/**
 * A JSON value (as `fromCollection` makes it, or as a transform gives it) in the driver's form of
 * a collection type: arrays, a Map with typed keys, a Tuple, a UDT's object; each scalar element
 * through `scalar`, which refuses what its type cannot hold.
 */
export function toCollection(value: unknown, type: CqlType, scalar: Scalar): unknown {
  if (value === null || value === undefined) return null
  const element = (v: unknown, t: CqlType) => (t.code >= codes.list ? toCollection(v, t, scalar) : t.code === codes.blob && typeof v === 'string' ? blob(v) : scalar(v, t))
  const inner = type.info
  switch (type.code) {
    case codes.list:
    case codes.set:
      return array(value, type).map((v) => element(v, inner as CqlType))
    case codes.map: {
      const [keyType, valueType] = inner as [CqlType, CqlType]
      const entries = Array.isArray(value) ? (value as [unknown, unknown][]) : isObject(value) ? Object.entries(value) : fail(value, type)
      return new Map(entries.map(([k, v]) => [element(keyValue(k, keyType), keyType), element(v, valueType)]))
    }
    case codes.tuple: {
      const list = array(value, type)
      const parts = inner as CqlType[]
      if (list.length !== parts.length) fail(value, type)
      return new types.Tuple(...list.map((v, i) => element(v, parts[i]!)))
    }
    case codes.udt: {
      if (!isObject(value)) fail(value, type)
      const fields = (inner as { fields: { name: string; type: CqlType }[] }).fields
      const unknown = Object.keys(value as object).filter((k) => !fields.some((f) => f.name === k))
      if (unknown.length) throw new Refusal(`${cqlTypeName(type)} has no field ${unknown.join(', ')}`)
      return Object.fromEntries(fields.map((f) => [f.name, element((value as Record<string, unknown>)[f.name] ?? null, f.type)]))
    }
    default:
      return fail(value, type)
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)

function array(value: unknown, type: CqlType): unknown[] {
  return Array.isArray(value) ? value : fail(value, type)
}

/** A map key given as text (JSON objects have no other keys) read back as its type wants it. */
function keyValue(key: unknown, type: CqlType): unknown {
  if (typeof key !== 'string' || type.code === codes.text || type.code === codes.varchar || type.code === codes.ascii) return key
  if (type.code === codes.boolean && (key === 'true' || key === 'false')) return key === 'true'
  if (type.code >= codes.list) return JSON.parse(key)
  return key
}

function blob(text: string): Buffer {
  if (!/^0x([0-9a-f]{2})*$/i.test(text)) throw new Refusal(`${JSON.stringify(text.slice(0, 40))} is not a blob (0x and hex digits)`)
  return Buffer.from(text.slice(2), 'hex')
}

function fail(value: unknown, type: CqlType): never {
  throw new Refusal(`${JSON.stringify(value)?.slice(0, 60)} is not a ${cqlTypeName(type)}`)
}
