import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { pathLabel, type Case } from './cases.js'
import { median, type Measurement } from './measure.js'

/** The runs of one case, or why it did not run. */
export interface CaseResult {
  readonly case: Case
  readonly runs: Measurement[]
  readonly skipped?: string
  readonly failed?: string
}

export const seconds = (r: CaseResult): number => median(r.runs.map((m) => m.seconds))
export const peakRss = (r: CaseResult): number => Math.max(...r.runs.map((m) => m.rssMb))

export const fmt = (n: number, digits = 2): string => n.toFixed(digits)
const thousands = (n: number): string => Math.round(n).toLocaleString('en-US')

/** The reference result of a ferry case's path, when it has one that ran. */
export function referenceOf(r: CaseResult, all: readonly CaseResult[]): CaseResult | undefined {
  const p = r.case.path
  return all.find(
    (x) => x.case.reference && x.case.path.from === p.from && x.case.path.to === p.to && x.runs.length > 0,
  )
}

/** The main table: one line per case, with the time ratio to the path's reference. */
export function mainTable(results: readonly CaseResult[], rows: number): string {
  const head = [
    '| path | tool | strategy | seconds (median) | runs (s) | rows/s | × reference time | client CPU s | peak RSS MB |',
    '|---|---|---|--:|---|--:|--:|--:|--:|',
  ]
  const lines = results.map((r) => {
    const c = r.case
    const start = `| ${pathLabel(c.path)} | ${c.tool.replaceAll('|', '\\|')} | ${c.strategy} |`
    if (r.skipped) return `${start} — | — | — | — | — | skipped: ${r.skipped} |`
    if (r.failed) return `${start} — | — | — | — | — | failed: ${r.failed.split('\n')[0]} |`
    const s = seconds(r)
    const ref = c.reference ? undefined : referenceOf(r, results)
    const ratio = c.reference ? 'ref' : ref ? `${fmt(s / seconds(ref))}×` : '—'
    const runs = r.runs.map((m) => fmt(m.seconds)).join(' / ')
    return `${start} ${fmt(s)} | ${runs} | ${thousands(rows / s)} | ${ratio} | ${fmt(median(r.runs.map((m) => m.cpuSeconds)), 1)} | ${fmt(peakRss(r), 0)} |`
  })
  return [...head, ...lines].join('\n')
}

/** The memory check: each case at each size, peak RSS side by side. */
export function memoryTable(bySize: ReadonlyMap<number, readonly CaseResult[]>): string {
  const sizes = [...bySize.keys()]
  const first = bySize.get(sizes[0]!)!
  const head = [
    `| path | strategy | ${sizes.map((n) => `${n / 1e6}M rows: s | ${n / 1e6}M: peak RSS MB`).join(' | ')} | RSS ${sizes.map((n) => `${n / 1e6}M`).join('→')} |`,
    `|---|---|${sizes.map(() => '--:|--:|').join('')}--:|`,
  ]
  const lines = first.map((r0, i) => {
    const cells: string[] = []
    const rss: number[] = []
    for (const n of sizes) {
      const r = bySize.get(n)![i]!
      if (r.runs.length === 0) {
        cells.push('—', r.skipped ? `skipped: ${r.skipped}` : `failed: ${r.failed?.split('\n')[0]}`)
        continue
      }
      cells.push(fmt(seconds(r)), fmt(peakRss(r), 0))
      rss.push(peakRss(r))
    }
    const growth = rss.length === sizes.length ? `${fmt(rss.at(-1)! - rss[0]!, 0)} MB` : '—'
    return `| ${pathLabel(r0.case.path)} | ${r0.case.strategy} | ${cells.join(' | ')} | ${growth} |`
  })
  return [...head, ...lines].join('\n')
}

const begin = (name: string) => `<!-- bench:${name}:begin (written by npm run bench) -->`
const end = (name: string) => `<!-- bench:${name}:end -->`

/**
 * Replaces the named generated section of `file`, keeping everything else (the hand-written
 * analysis) as it is; a missing section is appended.
 */
export function writeSection(file: string, name: string, body: string): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# ferry benchmarks\n'
  const block = `${begin(name)}\n${body.trim()}\n${end(name)}`
  const from = text.indexOf(begin(name))
  const to = text.indexOf(end(name))
  const next =
    from !== -1 && to > from
      ? text.slice(0, from) + block + text.slice(to + end(name).length)
      : `${text.trimEnd()}\n\n${block}\n`
  writeFileSync(file, next)
}
