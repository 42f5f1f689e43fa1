import { spawnSync } from 'node:child_process'
import { type Case, ferryCase, strategies } from './cases.js'
import { pgUrl, sourceTable } from './config.js'

/**
 * Elasticsearch for the bench: scripts/elasticsearch.sh's single node (7.17, heap 512m) of `npm run
 * servers`. ferry writes `users_ferry` (dropped and created by each run); the source of the ES → PG
 * cases is `users_<rows>`, loaded once by ferry itself from PostgreSQL (untimed) and kept.
 */
export const esBenchUrl = (): string => process.env.BENCH_ES_URL ?? 'elasticsearch://127.0.0.1:9200'
const node = (): string => esBenchUrl().replace(/^elasticsearch\+https:/, 'https:').replace(/^elasticsearch:/, 'http:')

/** Runs a few lines with an Elasticsearch client `c` in a child process (the cases' checks are synchronous). */
function withClient(body: string, ...args: string[]): string {
  const script = `const { Client } = require('@elastic/elasticsearch'); const c = new Client({ node: process.argv[1] }); (async () => { ${body} })().then(() => c.close(), (e) => { console.error(e.message); process.exit(1) })`
  const r = spawnSync(process.execPath, ['-e', script, node(), ...args], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`elasticsearch: ${r.stderr.trim()}`)
  return r.stdout.trim()
}

/** Documents in an index (0 when there is none), after a refresh. */
export function esCount(index: string): number {
  return Number(withClient(`if (!(await c.indices.exists({ index: process.argv[2] }))) return console.log(0); await c.indices.refresh({ index: process.argv[2] }); console.log((await c.count({ index: process.argv[2] })).count)`, index))
}

export function esUp(): boolean {
  try {
    withClient('await c.cluster.health({ wait_for_status: "yellow", timeout: "5s" })')
    return true
  } catch {
    return false
  }
}

export const esVersion = (): string => withClient('console.log((await c.info()).version.number)')

/** The ES → PG cases' source index: `users_<rows>`, written by ferry from the PostgreSQL source when missing. */
export function ensureEsSource(rows: number, log = console.log): void {
  const table = sourceTable(rows)
  if (esCount(table) === rows) return
  log(`loading elasticsearch ${table} with ferry (untimed)…`)
  const r = spawnSync(process.execPath, ['dist/src/cli/main.js', 'bench/pipelines/bench.ts'], {
    encoding: 'utf8',
    env: { ...process.env, SOURCE_URL: pgUrl(), TARGET_URL: esBenchUrl(), SOURCE_TABLE: table, TARGET_TABLE: table, STRATEGY: 'parallel' },
  })
  if (r.status !== 0 || esCount(table) !== rows) throw new Error(`loading ${table} into elasticsearch failed: ${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`)
}

/** PG → Elasticsearch and back, in every strategy. */
export function esCases(rows: number): Case[] {
  const into = { from: 'postgres', to: 'elasticsearch' } as const
  const back = { from: 'elasticsearch', to: 'postgres' } as const
  return [...strategies.map((s) => ferryCase(into, s, rows)), ...strategies.map((s) => ferryCase(back, s, rows))]
}
