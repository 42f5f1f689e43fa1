import type { Json, KeyTuple, Row } from './types.js'

/**
 * A key value as JSON that comes back exactly: bigints, bytes, dates and the numbers JSON lacks
 * are tagged (`{ "$bigint": "9007199254740993" }`, `{ "$bytes": "<base64>" }`); strings, finite
 * numbers and booleans stay as they are.
 */
export function keyToJson(value: unknown): Json {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? value : { $number: Object.is(value, -0) ? '-0' : String(value) }
    case 'bigint':
      return { $bigint: value.toString() }
  }
  if (value === null || value === undefined) return null
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') }
  if (value instanceof Date) return { $date: value.toISOString() }
  return { $json: JSON.parse(JSON.stringify(value)) as Json }
}

export function keyFromJson(json: Json): unknown {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return json
  const tagged = json as Record<string, Json>
  if (typeof tagged.$bigint === 'string') return BigInt(tagged.$bigint)
  if (typeof tagged.$bytes === 'string') return Buffer.from(tagged.$bytes, 'base64')
  if (typeof tagged.$date === 'string') return new Date(tagged.$date)
  if (typeof tagged.$number === 'string') return tagged.$number === '-0' ? -0 : Number(tagged.$number)
  if ('$json' in tagged) return tagged.$json
  throw new TypeError(`not an encoded key value: ${JSON.stringify(json)}`)
}

export const tupleToJson = (tuple: KeyTuple): Json => tuple.map(keyToJson)

export function tupleFromJson(json: Json): KeyTuple {
  if (!Array.isArray(json)) throw new TypeError(`not an encoded key: ${JSON.stringify(json)}`)
  return (json as Json[]).map(keyFromJson)
}

/** The key's values of a row, in key order. */
export function keyOf(row: Row, key: readonly string[]): KeyTuple {
  return key.map((name) => row[name])
}

/** A key for messages: `42`, or `(7, 'b')` for a composite one. */
export function keyText(tuple: KeyTuple): string {
  const one = (v: unknown) =>
    typeof v === 'string'
      ? `'${v}'`
      : v instanceof Uint8Array
        ? `0x${Buffer.from(v).toString('hex')}`
        : v instanceof Date
          ? v.toISOString()
          : String(v)
  return tuple.length === 1 ? one(tuple[0]) : `(${tuple.map(one).join(', ')})`
}

/** Whether two lists name the same columns, in any order. */
export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c) => b.includes(c))
}
