/**
 * JSON as Elasticsearch speaks it, without losing a digit. `_source` keeps documents as they were
 * sent (`9007199254740993`, `123.40`), and sort values of a `long` key are 64-bit: `JSON.parse`
 * would round integers beyond 2^53 to the nearest double, so responses that hold one come back
 * with it as a bigint. Requests write bigints as their digits.
 */
import { Serializer } from '@elastic/elasticsearch'

/** Digits a double may not hold: only a response with such a run takes the slow path. */
const longRun = /\d{16}/
/** JSON strings (skipped whole) and numbers. */
const tokens = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g

/** JSON text → value; integers beyond 2^53 become bigints (others are numbers, as `JSON.parse` makes them). */
export function parseJson(text: string): unknown {
  if (!longRun.test(text)) return JSON.parse(text)
  // A marker no response holds: a NUL, escaped, and a nonce.
  const mark = `\u0000${Math.random().toString(36).slice(2)}:`
  const escaped = JSON.stringify(mark).slice(1, -1)
  const marked = text.replace(tokens, (token) => (token[0] !== '"' && isLongInteger(token) ? `"${escaped}${token}"` : token))
  return JSON.parse(marked, (_key, value: unknown) => (typeof value === 'string' && value.startsWith(mark) ? BigInt(value.slice(mark.length)) : value))
}

function isLongInteger(token: string): boolean {
  return /^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token))
}

/** A value as JSON text; bigints as their digits, which Elasticsearch reads exactly into a `long`. */
export function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value)
  } catch {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `\u0000bigint:${v}` : v)).replace(/"\\u0000bigint:(-?\d+)"/g, '$1')
  }
}

/** The client's serializer, with ferry's JSON both ways (a bigint in `search_after`, a long in a response). */
export class LosslessSerializer extends Serializer {
  override serialize(object: Record<string, unknown>): string {
    return jsonText(object)
  }

  override deserialize<T = unknown>(json: string): T {
    return parseJson(json) as T
  }
}
