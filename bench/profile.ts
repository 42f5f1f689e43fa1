import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import { allCases, type Case } from './cases.js'
import { outDir } from './config.js'
import { ensureSources } from './generate.js'
import { measure } from './measure.js'
import { ensureRedis } from './redis.js'

/**
 * `node --import tsx bench/profile.ts <case id> [rows]`: runs one ferry case under
 * `node --cpu-prof` and prints where its process spends the time: idle (waiting for a server),
 * garbage collection, and self time by area (driver, stream layer, ferry) and by function.
 */
interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}
interface Profile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

const areas: [string, RegExp][] = [
  ['pg driver (pg, pg-protocol)', /node_modules\/(pg|pg-protocol|pg-types|pg-cursor|pg-query-stream|postgres-[a-z]+)\//],
  ['pg-copy-streams', /node_modules\/pg-copy-streams\//],
  ['mysql2 driver', /node_modules\/(mysql2|iconv-lite|lru\.min|named-placeholders|denque)\//],
  ['better-sqlite3', /node_modules\/better-sqlite3\//],
  ['ioredis driver', /node_modules\/(ioredis|@ioredis|redis-errors|redis-parser|cluster-key-slot|denque|standard-as-callback)\//],
  ['p-retry / pino', /node_modules\/(p-retry|pino|pino-pretty|sonic-boom|thread-stream)\//],
  ['tsx / esbuild (start-up)', /node_modules\/(tsx|esbuild|get-tsconfig)\//],
  ['ferry sources/', /\/sources\//],
  ['ferry sinks/', /\/sinks\//],
  ['ferry transforms/', /\/transforms\//],
  ['ferry src/', /\/src\//],
  ['node streams', /^node:internal\/streams\//],
  ['node net / io', /^node:(internal\/)?(net|stream_base_commons|tls|dns|fs|internal\/fs)/],
  ['node other', /^node:/],
]

function area(node: ProfileNode): string {
  const { functionName, url } = node.callFrame
  if (!url) {
    if (['(idle)', '(garbage collector)', '(program)', '(root)'].includes(functionName)) return functionName
    return 'native / builtins'
  }
  return areas.find(([, re]) => re.test(url))?.[0] ?? 'other'
}

export function summarize(file: string, top = 25): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  // A sample's delta is the time since the previous one: charge it to the node sampled now.
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
  const total = profile.endTime - profile.startTime
  const byArea = new Map<string, number>()
  const byFunction = new Map<string, number>()
  for (const [id, us] of self) {
    const node = byId.get(id)!
    byArea.set(area(node), (byArea.get(area(node)) ?? 0) + us)
    const { functionName, url, lineNumber } = node.callFrame
    const where = url ? `${url.replace(/^file:\/\/.*?node_modules\//, '').replace(/^file:\/\/\/work\/main\//, '')}:${lineNumber + 1}` : ''
    const key = `${functionName || '(anonymous)'} ${where}`.trim()
    byFunction.set(key, (byFunction.get(key) ?? 0) + us)
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1e6).toFixed(2).padStart(6)} s`
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1])
  return [
    `profile ${file}: ${(total / 1e6).toFixed(2)} s of the main thread`,
    '',
    'by area (self time):',
    ...sorted(byArea).map(([k, us]) => `  ${pct(us)}  ${k}`),
    '',
    `top ${top} functions (self time):`,
    ...sorted(byFunction)
      .slice(0, top)
      .map(([k, us]) => `  ${pct(us)}  ${k}`),
  ].join('\n')
}

/**
 * Runs one ferry case under `node --cpu-prof` (sources and Redis ready) and returns its time, CPU
 * and RSS with the summary of each thread's profile.
 */
export async function profileCase(c: Case, rows: number, top = 25): Promise<string> {
  if (c.path.from === 'redis' || c.path.to === 'redis') await ensureRedis(rows, c.path.from === 'redis')
  if (c.path.from !== 'redis' && c.path.from !== 'elasticsearch') await ensureSources(rows, [c.path.from])
  const dir = resolve(outDir, 'profiles', c.id.replaceAll(':', '_'))
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  c.prepare?.()
  const script = c.script.replace('exec node ', `exec node --cpu-prof --cpu-prof-dir=${dir} `)
  const m = await measure(script, resolve(dir, 'run.log'), c.env)
  const profiles = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => summarize(resolve(dir, f), top))
  return [`${c.id}: ${m.seconds.toFixed(2)} s wall, ${m.cpuSeconds.toFixed(2)} s CPU, ${m.rssMb.toFixed(0)} MB peak RSS (under the profiler)`, '', ...profiles].join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const id = process.argv[2]
  const rows = Number(process.argv[3] ?? 1_000_000)
  const c = allCases(rows).find((x) => x.id === id)
  if (!c || c.reference) {
    console.error(`usage: bench/profile.ts <ferry case id> [rows]; ids: ${allCases(rows).filter((x) => !x.reference).map((x) => x.id).join(', ')}`)
    process.exit(2)
  }
  console.log(await profileCase(c, rows))
}
