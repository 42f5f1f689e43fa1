import { statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Checkpoint } from '../src/checkpoint.js'
import type { Json } from '../src/types.js'
import { median } from './measure.js'

export interface CheckpointCost {
  readonly partitions: number
  /** Which partitions are done when the saves are timed. */
  readonly shape: string
  /** Median milliseconds of one save (state file written, fsynced, renamed, folder fsynced). */
  readonly saveMs: number
  readonly stateBytes: number
  /** The plan, written once by the first save. */
  readonly planBytes: number
  readonly planMs: number
}

const counts = { migrated: 0, failed: 0, skipped: 0, filtered: 0 }

/**
 * A plan of `n` partitions of a bigint-keyed table, as the SQL engines cut it, midway: the first
 * half done, a few later ones done out of order (parallel workers), four open at positions; or,
 * `slowFirst`, all done but the first four, which stay open (one slow partition holds the low end).
 */
async function measure(n: number, saves: number, slowFirst = false): Promise<CheckpointCost> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-bench-checkpoint-'))
  try {
    const bound = (i: number): Json => [{ $bigint: String(9_000_000_000_000n + BigInt(i) * 10_007n) }]
    const partitions = Array.from({ length: n }, (_, i): Json => (i === 0 ? { lte: bound(0) } : { gt: bound(i - 1), lte: bound(i) }))
    const half = slowFirst ? 0 : n >> 1
    const done = slowFirst
      ? new Set(Array.from({ length: n - 4 }, (_, i) => i + 4))
      : new Set([...Array.from({ length: half }, (_, i) => i), half + 5, half + 9])
    const open = new Map([half, half + 1, half + 2, half + 3].map((i) => [i, { position: bound(i), lease: 100_000 }]))
    const file = join(dir, 'bench.json')
    const checkpoint = new Checkpoint(
      { runId: 'bench', pipeline: 'bench', table: 't', settingsHash: 'h', partitions, done, open, counts },
      { file, interval: 100_000, enabled: true },
    )
    const first = performance.now()
    await checkpoint.save()
    const planMs = performance.now() - first
    const times: number[] = []
    for (let i = 0; i < saves; i++) {
      checkpoint.committed(half + (i % 4), bound(half + (i % 4)), 1000, { ...counts, migrated: i * 1000 })
      const started = performance.now()
      await checkpoint.save()
      times.push(performance.now() - started)
    }
    return {
      partitions: n,
      shape: slowFirst ? 'all done but the first 4' : 'first half done, 4 open',
      saveMs: median(times),
      stateBytes: statSync(file).size,
      planBytes: statSync(join(dir, 'bench.plan.json')).size,
      planMs,
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export async function checkpointCosts(sizes: readonly number[] = [1000, 100_000], saves = 200): Promise<CheckpointCost[]> {
  const costs: CheckpointCost[] = []
  for (const n of sizes) costs.push(await measure(n, saves))
  costs.push(await measure(sizes.at(-1)!, saves, true))
  return costs
}

export function checkpointTable(costs: readonly CheckpointCost[]): string {
  const kb = (b: number) => (b < 10_240 ? `${b} B` : `${(b / 1024).toFixed(0)} KiB`)
  return [
    '| partitions | done | one save (median) | state file | plan (written once) |',
    '|---:|---|---:|---:|---:|',
    ...costs.map((c) => `| ${c.partitions.toLocaleString('en-US')} | ${c.shape} | ${c.saveMs.toFixed(2)} ms | ${kb(c.stateBytes)} | ${kb(c.planBytes)} in ${c.planMs.toFixed(0)} ms |`),
  ].join('\n')
}

/** The target: a save at 100,000 partitions within 2× of one at 1,000. */
export function checkpointTarget(costs: readonly CheckpointCost[]): string {
  const small = costs[0]!
  const large = costs.reduce((a, b) => (b.saveMs > a.saveMs && b.partitions > small.partitions ? b : a), costs[1]!)
  const ratio = large.saveMs / small.saveMs
  return `- checkpoint save at ${large.partitions.toLocaleString('en-US')} partitions within 2× of ${small.partitions.toLocaleString('en-US')}: ${ratio <= 2 ? 'met' : 'MISSED'} (${ratio.toFixed(2)}×; ${large.saveMs.toFixed(2)} ms against ${small.saveMs.toFixed(2)} ms)`
}
