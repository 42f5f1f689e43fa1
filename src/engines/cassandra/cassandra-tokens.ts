import type { Json } from '../../types.js'
import { type CassandraConnection, quote } from './cassandra-connection.js'
import { isTimeout } from './cassandra-errors.js'
import type { CassandraTable } from './cassandra-schema.js'

/**
 * Murmur3Partitioner's ring: tokens are signed 64-bit integers, and no partition key hashes to the
 * minimum (the partitioner maps it to the maximum), so `(min, max]` holds every row.
 */
export const minToken = -(2n ** 63n)
export const maxToken = 2n ** 63n - 1n

/** A partition of a read: the rows whose token lies in `(from, to]`. */
export interface TokenRange {
  readonly from: bigint
  readonly to: bigint
}

export const wholeRing: TokenRange = { from: minToken, to: maxToken }

/** A partition as the source hands it out: token texts (JSON has no 64-bit integers); `{}` is the whole ring. */
export function rangeOf(partition: Json): TokenRange {
  const p = (partition ?? {}) as { from?: string; to?: string }
  return { from: p.from === undefined ? minToken : BigInt(p.from), to: p.to === undefined ? maxToken : BigInt(p.to) }
}

export const rangeJson = (r: TokenRange): Json => ({ from: String(r.from), to: String(r.to) })

/** `parts` ranges of (about) equal width covering `r`, in token order. */
export function splitEvenly(r: TokenRange, parts: number): TokenRange[] {
  const n = BigInt(Math.max(1, parts))
  const width = r.to - r.from
  const bounds = Array.from({ length: Number(n) + 1 }, (_, i) => (BigInt(i) === n ? r.to : r.from + (width * BigInt(i)) / n))
  return bounds.slice(1).map((to, i) => ({ from: bounds[i]!, to })).filter((p) => p.to > p.from)
}

/**
 * The ring as the driver's metadata cuts it (each node's vnode ranges), unwrapped and in token
 * order: reads that follow these bounds are each served by one set of replicas.
 */
export function ringRanges(connection: CassandraConnection): TokenRange[] {
  const bounds = new Set<bigint>()
  for (const range of connection.client.metadata.getTokenRanges()) {
    bounds.add(BigInt(String((range.start as { getValue(): unknown }).getValue())))
  }
  const sorted = [...bounds].filter((t) => t > minToken && t < maxToken).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const cuts = [minToken, ...sorted, maxToken]
  return cuts.slice(1).map((to, i) => ({ from: cuts[i]!, to }))
}

/**
 * About `parts` token ranges covering the ring: the metadata's ranges split evenly, each into a
 * share of the parts as wide as it is; when fewer parts than ranges are wanted, the ring split evenly.
 */
export function planRanges(connection: CassandraConnection, parts: number): TokenRange[] {
  if (parts <= 1) return [wholeRing]
  const ring = ringRanges(connection)
  if (parts <= ring.length) return splitEvenly(wholeRing, parts)
  const total = Number(maxToken - minToken)
  return ring.flatMap((r) => splitEvenly(r, Math.max(1, Math.round((parts * Number(r.to - r.from)) / total))))
}

/** `token("a", "b")`: the partition key's token, as CQL spells it. */
export function tokenOf(table: CassandraTable): string {
  return `token(${table.partitionKey.map(quote).join(', ')})`
}

/** ` AND <filter> ALLOW FILTERING` for a `where` in CQL, or nothing. */
export function filterClause(filter: string | undefined): { and: string; allow: string } {
  return filter === undefined || filter.trim() === '' ? { and: '', allow: '' } : { and: ` AND ${filter}`, allow: ' ALLOW FILTERING' }
}

/**
 * Rows under the filter, counted by token range in parallel (a count over a whole large table
 * times out on the server): each of the ring's ranges counted by one query, a range that times
 * out split in four and counted again.
 */
export async function countRows(connection: CassandraConnection, table: CassandraTable, filter: string | undefined, concurrency: number): Promise<number> {
  const { and, allow } = filterClause(filter)
  const cql = `SELECT count(*) AS n FROM ${connection.table(table.schema.table)} WHERE ${tokenOf(table)} > ? AND ${tokenOf(table)} <= ?${and}${allow}`
  const count = async (r: TokenRange, depth: number): Promise<number> => {
    try {
      const [row] = (await connection.execute(cql, [r.from, r.to])).rows
      return Number(row?.n ?? 0)
    } catch (err) {
      if (!isTimeout(err) || depth >= 6 || r.to - r.from < 4n) throw err
      const parts = await Promise.all(splitEvenly(r, 4).map((p) => count(p, depth + 1)))
      return parts.reduce((a, b) => a + b, 0)
    }
  }
  const counts = await mapConcurrently(ringRanges(connection), Math.min(concurrency, 16), (r) => count(r, 0))
  return counts.reduce((a, b) => a + b, 0)
}

/** `fn` over the items with at most `limit` calls at once; results in the items' order; the first failure rejects. */
export async function mapConcurrently<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  let failed = false
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++
      try {
        results[i] = await fn(items[i]!, i)
      } catch (err) {
        failed = true
        throw err
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}
