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

const fmt = (n: number, digits = 2): string => n.toFixed(digits)
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

/** Lines saying which of issue 5's and issue 15's targets this run met. */
export function targetLines(results: readonly CaseResult[], memory?: ReadonlyMap<number, readonly CaseResult[]>, startup?: number): string[] {
  const ferry = results.filter((r) => !r.case.reference && r.runs.length > 0)
  const out: string[] = []
  if (startup !== undefined) out.push(`- \`ferry --help\` start-up ≤ 0.25 s: ${fmt(startup)} s ${startup <= 0.25 ? 'met' : 'MISSED'}`)
  const ratioTarget = (from: string, to: string, label: string, ok: (ratio: number) => boolean) => {
    const cases = ferry.filter((r) => r.case.path.from === from && r.case.path.to === to)
    if (cases.length === 0) return out.push(`- ${label}: not measured (no ferry case ran)`)
    const parts = cases.map((r) => {
      const ref = referenceOf(r, results)
      if (!ref) return `${r.case.strategy} — (no reference)`
      const ratio = seconds(r) / seconds(ref)
      return `${r.case.strategy} ${fmt(ratio)}× ${ok(ratio) ? 'met' : 'MISSED'}`
    })
    return out.push(`- ${label}: ${parts.join('; ')}`)
  }
  // Issue 15's targets are per case: each strategy has its own.
  const caseTarget = (id: string, label: string, max: number) => {
    const r = ferry.find((x) => x.case.id === id)
    const ref = r && referenceOf(r, results)
    if (!r || !ref) return out.push(`- ${label}: not measured`)
    const ratio = seconds(r) / seconds(ref)
    return out.push(`- ${label}: ${fmt(ratio)}× ${ratio <= max ? 'met' : 'MISSED'}`)
  }
  caseTarget('ferry:pg-pg:streaming', 'PG→PG without a transform (raw passthrough), streaming, ≤ 1.1× the COPY pipe', 1.1)
  caseTarget('ferry:pg-pg:parallel', 'PG→PG without a transform (raw passthrough), parallel, ≤ 0.9× the COPY pipe', 0.9)
  caseTarget('ferry:pg-pg:streaming-decoded', "PG→PG decoded (passthrough off; issue 15's ≤ 2× for a copy with a transform), streaming, ≤ 2× the COPY pipe", 2)
  ratioTarget('postgres', 'mysql', 'PG→MySQL within 1.5× of its pipe', (x) => x <= 1.5)
  ratioTarget('mysql', 'postgres', 'MySQL→PG at least 2× faster than pgloader (≤ 0.50×)', (x) => x <= 0.5)
  ratioTarget('sqlite', 'postgres', 'SQLite→PG at least 2× faster than pgloader (≤ 0.50×)', (x) => x <= 0.5)
  const all = [...ferry, ...[...(memory?.values() ?? [])].flat().filter((r) => r.runs.length > 0)]
  if (all.length) {
    const worst = all.reduce((a, b) => (peakRss(b) > peakRss(a) ? b : a))
    const max = peakRss(worst)
    out.push(
      `- peak RSS under 150 MB in every ferry case: ${max < 150 ? 'met' : 'MISSED'} (largest ${fmt(max, 0)} MB, ${pathLabel(worst.case.path)} ${worst.case.strategy}${memory ? '' : ', main table only'})`,
    )
  }
  if (memory && memory.size > 1) {
    const sizes = [...memory.keys()]
    const a = memory.get(sizes[0]!)!
    const b = memory.get(sizes.at(-1)!)!
    const growths = a.flatMap((r, i) =>
      r.runs.length && b[i]!.runs.length ? [{ r, growth: peakRss(b[i]!) - peakRss(r) }] : [],
    )
    // "Flat": under 10% more for five times the rows. Anything held per row would grow several
    // fold; run-to-run noise of the same case is about ±10 MB.
    const flat = growths.every((g) => g.growth < 0.1 * peakRss(g.r))
    out.push(
      `- peak RSS flat from ${sizes[0]! / 1e6}M to ${sizes.at(-1)! / 1e6}M rows (< 10% growth): ${growths.length ? (flat ? 'met' : 'MISSED') : 'not measured'} (${growths.map((g) => `${pathLabel(g.r.case.path)} ${g.r.case.strategy} ${g.growth >= 0 ? '+' : ''}${fmt(g.growth, 0)} MB`).join('; ')})`,
    )
  }
  return out
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
