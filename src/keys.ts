import type { Key } from './types.js'

/**
 * A string that is equal for equal keys whatever their JS type, so `5`, `5n` from two drivers
 * match; strings are tagged so the text '5' stays apart from the number 5.
 */
export function keyId(key: unknown): string {
  switch (typeof key) {
    case 'number':
    case 'bigint':
      return String(key)
    case 'string':
      return `'${key}`
    default:
      return JSON.stringify(key) ?? String(key)
  }
}

/** Keys in JSON (checkpoints): bigints become `{ "$bigint": "…" }`, the rest stay as they are. */
export function encodeKey(key: Key | undefined): unknown {
  return typeof key === 'bigint' ? { $bigint: key.toString() } : key
}

export function decodeKey(value: unknown): Key | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'object' && '$bigint' in value) return BigInt(String(value.$bigint))
  if (typeof value === 'number' || typeof value === 'string') return value
  throw new TypeError(`not a key: ${JSON.stringify(value)}`)
}

/** Drivers hand 64-bit integers over as bigint; most fit a number, and a number is what users expect. */
export function narrowInteger(value: bigint): number | bigint {
  return value >= Number.MIN_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER ? Number(value) : value
}
