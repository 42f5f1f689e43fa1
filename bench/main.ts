import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { knownEngines } from '../src/engines/registry.js'
import { allCases, distributedWorkers, ferryCase, ferryCommand, mongoCases, workers, type Case, type Db } from './cases.js'
import { checkpointCosts, checkpointTable, checkpointTarget } from './checkpoint.js'
import { mariadb, mongoUrl, outDir, psql, run, sqliteTargetFile } from './config.js'
import { ensureSources, type SourceKind } from './generate.js'
import { measure, median } from './measure.js'
import { ensureEsSource, esCases, esUp, esVersion } from './elasticsearch.js'
import { ensureRedis, redisUp, redisVersion } from './redis.js'
import { sakilaBench, sakilaTable } from './sakila.js'
import { type CaseResult, mainTable, memoryTable, writeSection } from './report.js'
import { profileCase } from './profile.js'
import { rssTargetMb, targets as targetResults, type TargetResult } from './targets.js'

const usage = `usage: npm run bench [-- options]

  --rows N            rows in the source table (default 1000000)
  --runs K            runs of each case; the median time is reported (default 3)
  --only a,b          only the cases whose id contains one of these (e.g. pg-pg, ferry:sqlite, ref:, redis)
  --memory            only the memory check (streaming and chunked at each --memory-sizes)
  --no-memory         skip the memory check
  --memory-sizes a,b  row counts of the memory check (default 1000000,10000000)
  --memory-runs K     runs of each memory case (default 1)
  --mongodb           only MongoDB's paths (PG → MongoDB, MongoDB → PG) at --rows; on FerretDB
                      use a smaller --rows (100000: a read from FerretDB sorts the whole
                      collection in memory); writes BENCHMARKS.md's MongoDB table unless --only
  --sakila            only the whole-database copy: Sakila (samples/sakila) MySQL → PG and
                      SQLite → PG, ferry copy beside pgloader, with the objects each created;
                      writes BENCHMARKS.md's Sakila section unless --only
  --elasticsearch     only Elasticsearch's paths (PG → Elasticsearch, Elasticsearch → PG, every
                      strategy) at --rows; writes BENCHMARKS.md's Elasticsearch table unless --only
  --checkpoint        only the checkpoint cost (save time and file size at 1,000 and 100,000
                      partitions); no servers needed
  --no-checkpoint     skip the checkpoint cost
  --no-profile        do not profile the ferry case of each missed time target
  --batch-size N      ferry's batchSize (default: the pipeline's 1000); an experiment, so
                      BENCHMARKS.md is left alone

Needs the servers (npm run servers). A run without --only or --batch-size rewrites BENCHMARKS.md's tables.`

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    only: { type: 'string' },
    memory: { type: 'boolean', default: false },
    'no-memory': { type: 'boolean', default: false },
    'memory-sizes': { type: 'string', default: '1000000,10000000' },
    'memory-runs': { type: 'string', default: '1' },
    'batch-size': { type: 'string' },
    checkpoint: { type: 'boolean', default: false },
    mongodb: { type: 'boolean', default: false },
    sakila: { type: 'boolean', default: false },
    elasticsearch: { type: 'boolean', default: false },
    'no-checkpoint': { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (values.help) {
  console.log(usage)
  process.exit(0)
}
const rows = Number(values.rows)
const runs = Number(values.runs)
const only = values.only?.split(',').filter(Boolean)
const memorySizes = values['memory-sizes'].split(',').map(Number)
const memoryRuns = Number(values['memory-runs'])
// The bench pipeline reads BATCH_SIZE from the environment, which every case inherits.
if (values['batch-size']) process.env.BATCH_SIZE = values['batch-size']
const batchSize = values['batch-size'] ?? '1000'
/** Runs that measure something else than the default table do not touch BENCHMARKS.md. */
const partial = only !== undefined || values['batch-size'] !== undefined
const selected = (c: Case) => !only || only.some((o) => c.id.includes(o))
const benchmarksFile = resolve('BENCHMARKS.md')

/** Set-up: pgloader from Debian's packages when missing, and servers that answer. */
function setUp(): void {
  if (!values.mongodb && !values.elasticsearch && spawnSync('sh', ['-c', 'command -v pgloader']).status !== 0) {
    console.log('installing pgloader (apt-get install -y pgloader)…')
    const apt = (...args: string[]) => {
      const cmd = process.getuid?.() === 0 ? ['apt-get', ...args] : ['sudo', 'apt-get', ...args]
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
      return spawnSync(cmd[0]!, cmd.slice(1), { stdio: 'inherit', env }).status === 0
    }
    // The package lists may be missing or stale on a fresh machine: update once, then retry.
    if (!apt('install', '-y', '-qq', 'pgloader') && !(apt('update', '-qq') && apt('install', '-y', '-qq', 'pgloader'))) {
      throw new Error('cannot install pgloader; install it with `apt-get install pgloader`')
    }
  }
  try {
    psql('SELECT 1', 'postgres')
    mariadb('SELECT 1')
  } catch (err) {
    console.error(`bench: the servers do not answer (${(err as Error).message.split('\n')[0]}); start them with \`npm run servers\``)
    process.exit(2)
  }
}

/** Busy share of all cores over `ms`, from /proc/stat. */
async function cpuBusy(ms: number): Promise<number> {
  const sample = () => {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/)
    const n = fields.map(Number)
    const idle = n[3]! + n[4]!
    return { idle, total: n.reduce((a, b) => a + b, 0) }
  }
  const a = sample()
  await new Promise((r) => setTimeout(r, ms))
  const b = sample()
  return 1 - (b.idle - a.idle) / Math.max(1, b.total - a.total)
}

/**
 * Waits (up to 3 minutes) until the machine is idle, so that a run does not share the cores
 * with something else, e.g. a test suite; says so when it had to wait.
 */
async function quiet(): Promise<void> {
  const started = Date.now()
  let busy = await cpuBusy(1000)
  while (busy > 0.15 && Date.now() - started < 180_000) busy = await cpuBusy(2000)
  const waited = (Date.now() - started) / 1000
  if (waited > 5) console.log(`  (waited ${waited.toFixed(0)} s for the machine to go idle; busy ${(busy * 100).toFixed(0)}% now)`)
}

/**
 * Untimed, before every run: wait for autovacuum of what the previous run loaded and checkpoint,
 * so that no run pays for the one before it on this 2-core machine.
 */
async function settle(): Promise<void> {
  await quiet()
  for (let i = 0; i < 120; i++) {
    const busy = psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'", 'postgres')
    if (busy === '0') break
    await new Promise((r) => setTimeout(r, 500))
  }
  psql('CHECKPOINT', 'postgres')
}

async function runCase(c: Case, n: number, times: number): Promise<CaseResult> {
  const missing = c.needsDialects.filter((d) => !knownEngines.includes(d))
  if (missing.length) return { case: c, runs: [], skipped: `ferry has no ${missing.join(', ')} engine yet` }
  const result: CaseResult & { runs: CaseResult['runs'] } = { case: c, runs: [] }
  for (let i = 1; i <= times; i++) {
    try {
      c.prepare?.()
      await settle()
      const log = resolve(outDir, 'runs', `${c.id.replaceAll(':', '_')}-${n}-${i}.log`)
      const m = await measure(c.script, log, c.env)
      const written = c.rowsWritten()
      if (written !== n) throw new Error(`wrote ${written} rows, expected ${n}; see ${log}`)
      result.runs.push(m)
      console.log(`  ${c.id} (${n} rows) run ${i}: ${m.seconds.toFixed(2)} s, ${m.rssMb.toFixed(0)} MB`)
    } catch (err) {
      console.log(`  ${c.id} run ${i} FAILED: ${(err as Error).message}`)
      return { case: c, runs: [], failed: (err as Error).message }
    }
  }
  return result
}

function versions(): string {
  const first = (cmd: string, args: string[]) => {
    try {
      return run(cmd, args).split('\n')[0]!.trim()
    } catch {
      return 'not installed'
    }
  }
  const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim()
  const dirty = spawnSync('git', ['status', '--porcelain', 'src', 'sources', 'sinks', 'transforms'], { encoding: 'utf8' }).stdout.trim()
  return [
    `- machine: ${os.availableParallelism()} cores (${os.cpus()[0]?.model.trim()}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GB RAM, ${os.type()} ${os.release()}`,
    `- date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    `- ferry: ${commit}${dirty ? ' + uncommitted changes' : ''}; node ${process.version}`,
    `- PostgreSQL ${psql('SHOW server_version', 'postgres')}; MariaDB ${mariadb('SELECT VERSION()')}; Redis ${redisUp() ? redisVersion() : 'not running'}; ${first('pgloader', ['--version'])}; ${first('mysqldump', ['--version'])}`,
  ].join('\n')
}

/** What a ferry case pays before it moves a row: `ferry --help`, node loading the compiled CLI. */
async function startupCost(): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < 3; i++) {
    await quiet()
    const m = await measure('exec bin/ferry.js --help', resolve(outDir, 'runs', 'startup.log'))
    times.push(m.seconds)
  }
  return median(times)
}

/** Checkpoint save time and size; its own section of BENCHMARKS.md. */
async function checkpoints(): Promise<string> {
  const costs = await checkpointCosts()
  const table = checkpointTable(costs)
  const target = checkpointTarget(costs)
  writeSection(
    benchmarksFile,
    'checkpoint',
    `## Checkpoint cost

A plan of bigint key ranges half done, four partitions open; 200 saves, each written to a temp file, fsynced, renamed, the folder fsynced. A save writes the open partitions and the done ones as runs of indexes; the plan is written once.

${table}

${target}`,
  )
  return `\ncheckpoint cost:\n\n${table}\n\n${target}\n`
}

async function main(): Promise<void> {
  mkdirSync(resolve(outDir, 'runs'), { recursive: true })
  if (values.checkpoint) {
    console.log(await checkpoints())
    return
  }
  setUp()
  if (values.mongodb) {
    await mongodb()
    return
  }
  if (values.sakila) {
    await sakila()
    return
  }
  if (values.elasticsearch) {
    await elasticsearch()
    return
  }
  const cases = values.memory ? [] : allCases(rows).filter(selected)
  const memoryPaths: { from: Db; to: Db }[] = [
    { from: 'sqlite', to: 'sqlite' },
    { from: 'postgres', to: 'postgres' },
  ]
  const memoryCases = (n: number) =>
    memoryPaths.flatMap((p) => ['streaming', 'chunked'].map((s) => ferryCase(p, s, n))).filter(selected)
  const doMemory = values.memory || !values['no-memory']
  const sources = new Map<number, Set<Db>>()
  const need = (n: number, list: Case[]) => {
    for (const c of list) sources.set(n, new Set([...(sources.get(n) ?? []), c.path.from]))
  }
  need(rows, cases)
  if (doMemory) for (const n of memorySizes) need(n, memoryCases(n))
  const withRedis = cases.some((c) => c.path.from === 'redis' || c.path.to === 'redis')
  if (withRedis && !redisUp()) {
    console.error('bench: Redis does not answer on 127.0.0.1:6379; start it with `npm run servers`, or leave its cases out with --only')
    process.exit(2)
  }
  for (const [n, kinds] of sources) await ensureSources(n, [...kinds].filter((k): k is SourceKind => k !== 'redis' && k !== 'elasticsearch'))
  if (withRedis) await ensureRedis(rows, sources.get(rows)?.has('redis') === true)
  console.log(`ferry engines registered: ${knownEngines.join(', ')}`)

  // A SQLite target run times recreate's DROP of the previous run's table: the previous run of
  // the same size, not whatever an earlier bench (the 10M memory check) left in the file.
  for (const suffix of ['', '-wal', '-shm']) rmSync(sqliteTargetFile + suffix, { force: true })
  const startup = cases.length ? await startupCost() : undefined
  const results: CaseResult[] = []
  for (const c of cases) results.push(await runCase(c, rows, runs))

  let memory: Map<number, CaseResult[]> | undefined
  if (doMemory) {
    memory = new Map()
    for (const n of memorySizes) {
      const list: CaseResult[] = []
      for (const c of memoryCases(n)) list.push(await runCase(c, n, memoryRuns))
      memory.set(n, list)
    }
  }

  const header = `${rows.toLocaleString('en-US')} rows, median of ${runs} run(s) per case\n\n${versions()}`
  const notes = [
    `- Every case is its own process, timed by \`/usr/bin/time -f '%e %M %U %S'\`: wall seconds, peak RSS of the largest process (for a shell pipe, its largest member) and CPU seconds of the client processes; the servers' memory and CPU are not counted.`,
    `- ferry runs \`${ferryCommand}\`, the JavaScript \`npm run build\` compiles (writeMode \`recreate\`, checkpoints on every 100,000 rows and chunk, validate off, batchSize ${batchSize}${values['batch-size'] ? '' : ' (the raw passthrough: batches of batchBytes, 4 MiB)'}, chunkSize 10000; parallel = ${workers} workers on this ${os.availableParallelism()}-core machine; distributed = ${distributedWorkers} \`ferry worker\` processes on the same machine and its Redis, their start-up timed). Its times include start-up: node loading the compiled CLI takes ${startup?.toFixed(2) ?? '—'} s alone (\`ferry --help\`). PG→PG without a transform takes the raw passthrough (COPY text, never decoded); \`decoded (passthrough off)\` is the same copy with \`passthrough: false\`. A SQLite target file is kept from run to run, so a SQLite target run includes recreate's DROP of the previous run's table.`,
    '- × reference time: ferry\'s median seconds over the reference tool\'s on the same path (below 1 is faster).',
  ].join('\n')
  const measured = targetResults(results, memory, startup)
  const targets = measured.map((t) => `- ${t.line}`)
  let out = ''
  if (cases.length) {
    out += `\n${header}\n\n${mainTable(results, rows)}\n\n${notes}\n`
    if (!partial) writeSection(benchmarksFile, 'main', `## Throughput\n\n${header}\n\n${mainTable(results, rows)}\n\n${notes}`)
  }
  if (memory) {
    const table = memoryTable(memory)
    out += `\nmemory check (${memoryRuns} run(s) per case):\n\n${table}\n`
    if (!partial) writeSection(benchmarksFile, 'memory', `## Memory check\n\nferry streaming and chunked at ${memorySizes.map((n) => n.toLocaleString('en-US')).join(' and ')} rows, ${memoryRuns} run(s) each; peak RSS of the ferry process.\n\n${table}`)
  }
  if (!values['no-checkpoint'] && !partial) out += await checkpoints()
  out += `\ntargets:\n${targets.join('\n')}\n`
  if (!partial && cases.length) writeSection(benchmarksFile, 'targets', `## Targets (issue 15)\n\n${targets.join('\n')}`)
  if (cases.length && !values['no-profile']) {
    const profiles = await missedProfiles(measured)
    out += `\n${profiles}\n`
    if (!partial) writeSection(benchmarksFile, 'profiles', profiles)
  }
  console.log(out)
  if (!partial) console.log(`written to ${benchmarksFile}`)
}

/**
 * Where the time goes in each missed time target: its case (the path's best strategy) run once more
 * under `node --cpu-prof`, summarized by bench/profile.ts.
 */
async function missedProfiles(measured: readonly TargetResult[]): Promise<string> {
  const parts = [
    '## Profiles of the missed targets',
    '',
    `Each missed time target's ferry case (for a path, its fastest strategy) run once more under \`node --cpu-prof\`: self time of each thread by area and by function. \`(idle)\` is the main thread waiting, for a server or a disk; the peak RSS target (${rssTargetMb} MB) has no CPU profile.`,
  ]
  for (const t of measured) {
    if (t.met !== false || !t.profile) continue
    await quiet()
    console.log(`profiling ${t.profile.case.id}…`)
    const summary = await profileCase(t.profile.case, rows, 8).catch((err: unknown) => `profile failed: ${(err as Error).message}`)
    parts.push('', `### ${t.line}`, '', '```', summary.replace(/^profile \/.*\/(CPU[^:]*): /gm, '$1: '), '```')
  }
  return parts.join('\n')
}

/** `--sakila`: a whole database, ferry copy beside pgloader, in a table of its own. */
async function sakila(): Promise<void> {
  const results = await sakilaBench(runs, settle)
  const header = `Sakila at its own size (16 tables, 47,169 rows; schema in samples/sakila, rows generated by samples/sakila/generate.ts), median of ${runs} run(s) per case\n\n${versions()}`
  const table = sakilaTable(results)
  const notes = [
    '- Each run starts from an empty target database (dropped and created, untimed); both tools then create the tables, load them, build the indexes and foreign keys and set the sequences.',
    "- ferry: `bin/ferry.js copy <source> <target>` (`--spatial text` from MySQL: `address.location` becomes EWKT text; pgloader makes it a PostgreSQL `point`), defaults otherwise: chunked, batches of 1000, count validation, checkpoints on, the target's catalog checked against the plan at the end. pgloader: `LOAD DATABASE … WITH include drop, create tables, create indexes, foreign keys, reset sequences` (bench/.out/sakila-*.load).",
    '- Counted in the target afterwards from pg_catalog: tables and rows in `public`; indexes other than primary keys (unique ones in brackets); foreign keys; CHECK constraints; enum types; identity or serial columns.',
  ].join('\n')
  console.log(`\n${header}\n\n${table}\n\n${notes}\n`)
  if (!only) {
    writeSection(benchmarksFile, 'sakila', `## Whole database: Sakila (issue 16)\n\n${header}\n\n${table}\n\n${notes}`)
    console.log(`written to ${benchmarksFile}`)
  }
}

/** `--mongodb`: MongoDB's paths only, in a table of their own. */
async function mongodb(): Promise<void> {
  const cases = mongoCases(rows).filter(selected)
  await ensureSources(rows, ['postgres', 'mongodb'])
  const results: CaseResult[] = []
  for (const c of cases) results.push(await runCase(c, rows, runs))
  const server = spawnSync(process.execPath, ['-e', `require('mongodb').MongoClient.connect(process.argv[1]).then(async (c) => { const b = await c.db('admin').command({ buildInfo: 1 }); console.log(b.ferretdbVersion ? 'FerretDB ' + (b.ferretdbVersion === 'unknown' ? '1.24.2 as scripts/mongo.sh builds it' : b.ferretdbVersion) + ', SQLite backend (reports MongoDB ' + b.version + ')' : 'MongoDB ' + b.version); await c.close() })`, mongoUrl()], { encoding: 'utf8' }).stdout.trim()
  const header = `${rows.toLocaleString('en-US')} rows, median of ${runs} run(s) per case; server: ${server}\n\n${versions()}`
  const table = mainTable(results, rows)
  console.log(`\n${header}\n\n${table}\n`)
  if (!only && !values['batch-size']) {
    writeSection(benchmarksFile, 'mongodb', `## MongoDB\n\n${header}\n\n${table}\n\nNo reference tool: mongoimport and mongoexport are in no registry these machines reach. The chunked read from MongoDB takes ${Math.ceil(rows / 4).toLocaleString('en-US')}-row chunks: FerretDB reads and sorts the whole collection in memory for every range, so each chunk costs a full pass. The server is the limit here: ferry's own CPU (client CPU s) is a fraction of the wall time, the rest is FerretDB's.`)
    console.log(`written to ${benchmarksFile}`)
  }
}

/** `--elasticsearch`: Elasticsearch's paths only, in a table of their own. */
async function elasticsearch(): Promise<void> {
  if (!esUp()) {
    console.error('bench: Elasticsearch does not answer on 127.0.0.1:9200; start it with `npm run servers` (or bash scripts/elasticsearch.sh start)')
    process.exit(2)
  }
  const cases = esCases(rows).filter(selected)
  await ensureSources(rows, ['postgres'])
  if (cases.some((c) => c.path.from === 'elasticsearch')) ensureEsSource(rows)
  const results: CaseResult[] = []
  for (const c of cases) results.push(await runCase(c, rows, runs))
  const header = `${rows.toLocaleString('en-US')} rows, median of ${runs} run(s) per case; server: Elasticsearch ${esVersion()} (scripts/elasticsearch.sh: one node, heap 512m, one shard)\n\n${versions()}`
  const table = mainTable(results, rows)
  console.log(`\n${header}\n\n${table}\n`)
  if (!only && !values['batch-size']) {
    writeSection(benchmarksFile, 'elasticsearch', `## Elasticsearch\n\n${header}\n\n${table}\n\nNo reference tool: Logstash and elasticdump are in no registry these machines reach. Writes are \`_bulk\` requests of 1000 documents (\`index\`, explicit \`_id\`) with refresh off for the load and one refresh at its end; reads are one point in time per key range, pages of 1000 by \`search_after\`. Peak RSS is ferry's; the server's heap is 512 MB besides.`)
    console.log(`written to ${benchmarksFile}`)
  }
}

await main()
