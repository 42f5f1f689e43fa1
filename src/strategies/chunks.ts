import type { ResolvedSettings } from '../config.js'
import type { Source } from '../source.js'
import type { Key, KeyRange } from '../types.js'

/** Consecutive ranges between split keys: (-∞, k1], (k1, k2], …, (kn, +∞). */
export function rangesBetween(splits: readonly Key[]): KeyRange[] {
  const ranges: KeyRange[] = []
  let gt: Key | undefined
  for (const lte of splits) {
    ranges.push(gt === undefined ? { lte } : { gt, lte })
    gt = lte
  }
  ranges.push(gt === undefined ? {} : { gt })
  return ranges
}

/** Ranges of `chunkSize` rows each, cut at quantiles of the actual keys under the filter. */
export async function chunksOf(source: Source, s: ResolvedSettings): Promise<KeyRange[]> {
  return rangesBetween(await source.splitKeys(s.sourceTable, s.primaryKey, s.chunkSize, s.where))
}
