import { pathLabel, type Db } from './cases.js'
import { type CaseResult, fmt, peakRss, referenceOf, seconds } from './report.js'

/** One of issue 15's targets as this run measured it. */
export interface TargetResult {
  readonly line: string
  /** undefined: not measured. */
  readonly met: boolean | undefined
  /** The ferry case whose profile shows where the time goes when the target is missed. */
  readonly profile?: CaseResult
}

/** "Flat": under 10% more peak RSS for several times the rows; run-to-run noise is about ±10 MB. */
const flatGrowth = 0.1
export const rssTargetMb = 120

/** Issue 15's targets, each met or missed, from the main table, the memory check and the start-up time. */
export function targets(results: readonly CaseResult[], memory?: ReadonlyMap<number, readonly CaseResult[]>, startup?: number): TargetResult[] {
  const ferry = results.filter((r) => !r.case.reference && r.runs.length > 0)
  const out: TargetResult[] = []
  const verdict = (met: boolean) => (met ? 'met' : 'MISSED')
  if (startup === undefined) out.push({ line: '`ferry --help` start-up ≤ 0.25 s: not measured', met: undefined })
  else out.push({ line: `\`ferry --help\` start-up ≤ 0.25 s: ${fmt(startup)} s ${verdict(startup <= 0.25)}`, met: startup <= 0.25 })

  const ratio = (r: CaseResult) => {
    const ref = referenceOf(r, results)
    return ref && seconds(r) / seconds(ref)
  }
  // One case's ratio to its path's reference.
  const caseTarget = (id: string, label: string, max: number) => {
    const r = ferry.find((x) => x.case.id === id)
    const x = r && ratio(r)
    if (!r || x === undefined) return out.push({ line: `${label}: not measured`, met: undefined })
    return out.push({ line: `${label}: ${fmt(x)}× ${verdict(x <= max)}`, met: x <= max, profile: r })
  }
  // A path's target, met by its best strategy; every strategy is listed, and the best is profiled.
  const pathTarget = (from: Db, to: Db, label: string, max: number) => {
    const cases = ferry.filter((r) => r.case.path.from === from && r.case.path.to === to && !r.case.id.match(/-(decoded|transform)$|:distributed$/))
    const rated = cases.flatMap((r) => {
      const x = ratio(r)
      return x === undefined ? [] : [{ r, x }]
    })
    if (rated.length === 0) return out.push({ line: `${label}: not measured`, met: undefined })
    const best = rated.reduce((a, b) => (b.x < a.x ? b : a))
    const parts = rated.map(({ r, x }) => `${r.case.strategy} ${fmt(x)}×`).join('; ')
    return out.push({ line: `${label}: ${verdict(best.x <= max)} (${parts})`, met: best.x <= max, profile: best.r })
  }
  caseTarget('ferry:pg-pg:streaming', 'PG→PG without a transform (raw passthrough), streaming, ≤ 1.1× the COPY pipe', 1.1)
  caseTarget('ferry:pg-pg:parallel', 'PG→PG without a transform (raw passthrough), parallel on 2 workers, ≤ 0.9× the COPY pipe', 0.9)
  caseTarget('ferry:pg-pg:streaming-transform', "PG→PG with the users demo's transform, streaming, ≤ 2× the COPY pipe", 2)
  pathTarget('postgres', 'mysql', 'PG→MySQL ≤ 1.5× its pipe (`COPY csv | LOAD DATA`), best strategy', 1.5)
  pathTarget('mysql', 'postgres', 'MySQL→PG ≤ 0.5× pgloader, best strategy', 0.5)
  pathTarget('sqlite', 'postgres', 'SQLite→PG ≤ 0.5× pgloader, best strategy', 0.5)
  pathTarget('mysql', 'mysql', 'MySQL→MySQL ≤ 0.8× `mysqldump | mariadb`, best strategy', 0.8)
  pathTarget('sqlite', 'sqlite', 'SQLite→SQLite ≤ 1× the sqlite3 shell’s `.dump | sqlite3`, best strategy', 1)

  const all = [...ferry, ...[...(memory?.values() ?? [])].flat().filter((r) => r.runs.length > 0)]
  if (all.length) {
    const label = (r: CaseResult) => `${pathLabel(r.case.path)} ${r.case.strategy}`
    // A case over the target at several sizes (the memory check) is named once, at its largest.
    const largest = new Map<string, number>()
    for (const r of all) if (peakRss(r) > rssTargetMb) largest.set(label(r), Math.max(largest.get(label(r)) ?? 0, peakRss(r)))
    const over = [...largest]
    const worst = all.reduce((a, b) => (peakRss(b) > peakRss(a) ? b : a))
    const which = over.map(([name, mb]) => `${name} ${fmt(mb, 0)} MB`).join('; ')
    out.push({
      line: `peak RSS ≤ ${rssTargetMb} MB in every ferry case${memory ? '' : ' (main table only)'}: ${verdict(over.length === 0)} (largest ${fmt(peakRss(worst), 0)} MB, ${pathLabel(worst.case.path)} ${worst.case.strategy}${over.length ? `; over: ${which}` : ''})`,
      met: over.length === 0,
    })
  }
  if (memory && memory.size > 1) {
    const sizes = [...memory.keys()]
    const a = memory.get(sizes[0]!)!
    const b = memory.get(sizes.at(-1)!)!
    const growths = a.flatMap((r, i) => (r.runs.length && b[i]!.runs.length ? [{ r, growth: peakRss(b[i]!) - peakRss(r) }] : []))
    const flat = growths.length > 0 && growths.every((g) => g.growth < flatGrowth * peakRss(g.r))
    const list = growths.map((g) => `${pathLabel(g.r.case.path)} ${g.r.case.strategy} ${g.growth >= 0 ? '+' : ''}${fmt(g.growth, 0)} MB`).join('; ')
    out.push({
      line: `peak RSS flat from ${sizes[0]! / 1e6}M to ${sizes.at(-1)! / 1e6}M rows (< ${flatGrowth * 100}% growth): ${growths.length ? verdict(flat) : 'not measured'} (${list})`,
      met: growths.length ? flat : undefined,
    })
  }
  return out
}
