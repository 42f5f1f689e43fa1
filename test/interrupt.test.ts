import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import test from 'ava'
import { itemsDb, query, range, tempDir } from './helpers.js'
import { runChild } from './kill-helpers.js'

const repo = resolve(import.meta.dirname, '..')
const pipeline = join(repo, 'test', 'fixtures', 'kill-pipeline.ts')
const rows = 150_000

/** Starts a child and resolves once its output has said `text`; collects all it says. */
function started(child: ChildProcess, text: RegExp): { output: () => string; seen: Promise<void>; exited: Promise<number | null> } {
  let output = ''
  let found: () => void
  const seen = new Promise<void>((done) => (found = done))
  const collect = (d: Buffer) => {
    output += d.toString()
    if (text.test(output)) found()
  }
  child.stdout!.on('data', collect)
  child.stderr!.on('data', collect)
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)))
  return { output: () => output, seen, exited }
}

/** Resolves once the target holds some rows: the signal then comes mid-run, whatever the machine's load. */
async function committed(dir: string): Promise<void> {
  const target = join(dir, 'target.db')
  const rowsIn = () => {
    try {
      return query<{ n: number }>(target, 'SELECT COUNT(*) AS n FROM items_copy')[0]!.n
    } catch {
      return 0
    }
  }
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline && rowsIn() === 0) await new Promise((done) => setTimeout(done, 50))
}

function setUp() {
  const dir = tempDir()
  const env = { SOURCE_URL: itemsDb(join(dir, 'source.db'), range(1, rows)), TARGET_URL: `sqlite:${join(dir, 'target.db')}`, WORK_DIR: dir, STRATEGY: 'parallel' }
  return { dir, env }
}

function lastReport(dir: string): { summary: { status: string; resume?: string }; statistics: { migrated: number } } {
  const name = readdirSync(join(dir, 'reports')).filter((n) => n.endsWith('.json')).sort().at(-1)!
  return JSON.parse(readFileSync(join(dir, 'reports', name), 'utf8')) as never
}

async function resumesExact(t: import('ava').ExecutionContext, dir: string, env: Record<string, string>): Promise<void> {
  const resumed = await runChild(env, ['--resume'])
  t.is(resumed.code, 0, resumed.output)
  t.regex(resumed.output, /resuming from/)
  t.regex(resumed.output, new RegExp(`validation \\(checksum\\): source ${rows}, expected ${rows}, target ${rows}: passed`))
  t.deepEqual(query(join(dir, 'target.db'), 'SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM items_copy'), [{ n: rows, d: rows }])
}

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  test(`${signal} mid-run stops at a batch boundary: report INTERRUPTED with the resume command, checkpoint saved, exit ${code}; --resume ends exact`, async (t) => {
    const { dir, env } = setUp()
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(repo, 'src', 'cli', 'main.ts'), pipeline], { env: { ...process.env, ...env } })
    const run = started(child, /prepared \(insert\)/)
    await run.seen
    await committed(dir)
    child.kill(signal)
    t.is(await run.exited, code, run.output())
    t.regex(run.output(), new RegExp(`${signal}: stopping after the batches being written`))
    const report = lastReport(dir)
    t.is(report.summary.status, 'INTERRUPTED')
    t.regex(report.summary.resume ?? '', /^npm run pipeline .*kill-pipeline\.ts -- --resume$/)
    t.true(report.statistics.migrated > 0 && report.statistics.migrated < rows, `${report.statistics.migrated} rows before the stop`)
    t.deepEqual(query(join(dir, 'target.db'), 'SELECT COUNT(*) AS n FROM items_copy'), [{ n: report.statistics.migrated }], 'the report counts what the target holds')
    t.true(existsSync(join(dir, 'checkpoints', 'kill-pipeline.json')))
    await resumesExact(t, dir, env)
  })
}

test('SIGTERM to `npm run pipeline` (npm does not pass it on) stops the run it started the same way', async (t) => {
  const { dir, env } = setUp()
  const child = spawn('npm', ['run', '--silent', 'pipeline', pipeline], { cwd: repo, env: { ...process.env, ...env } })
  const run = started(child, /prepared \(insert\)/)
  await run.seen
  await committed(dir)
  child.kill('SIGTERM')
  await run.exited
  // The node process under npm notices its parent is gone, stops at a batch boundary and reports.
  const deadline = Date.now() + 20_000
  const reported = () => existsSync(join(dir, 'reports')) && readdirSync(join(dir, 'reports')).some((n) => n.endsWith('.json'))
  while (Date.now() < deadline && !reported()) await new Promise((done) => setTimeout(done, 100))
  t.is(lastReport(dir).summary.status, 'INTERRUPTED')
  await resumesExact(t, dir, env)
})
