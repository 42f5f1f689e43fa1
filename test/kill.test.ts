import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import test from 'ava'
import { random } from '../src/demo.js'
import { itemsDb, query, range, tempDir } from './helpers.js'
import { dropNamespaces, mysqlQueryAt, pgQueryAt, requireServers, scratchUrl, type ServerName } from './servers.js'

const repo = resolve(import.meta.dirname, '..')
const main = join(repo, 'src', 'cli', 'main.ts')
const pipeline = join(repo, 'test', 'fixtures', 'kill-pipeline.ts')

interface Outcome {
  code: number | null
  signal: NodeJS.Signals | null
  output: string
}

/** Runs the kill pipeline as `npm run pipeline` would; kills it with SIGKILL after `killAfterMs`. */
function runChild(env: Record<string, string>, args: string[], killAfterMs?: number): Promise<Outcome> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), main, pipeline, ...args], { env: { ...process.env, ...env } })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs)
    child.on('error', fail)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      done({ code, signal, output })
    })
  })
}

interface Target {
  readonly name: string
  url(dir: string): Promise<string>
  /** Row count, distinct keys, and rows whose name the transform upper-cased. */
  counts(dir: string): Promise<{ n: number; d: number; upper: number }>
}

const countsSql = 'SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d, SUM(CASE WHEN name = UPPER(name) THEN 1 ELSE 0 END) AS upper FROM items_copy'
const numbers = (row: Record<string, unknown> | undefined) => ({ n: Number(row?.n), d: Number(row?.d), upper: Number(row?.upper) })

const sqliteTarget: Target = {
  name: 'sqlite',
  url: async (dir) => `sqlite:${join(dir, 'target.db')}`,
  counts: async (dir) => numbers(query(join(dir, 'target.db'), countsSql)[0]),
}

function serverTarget(server: ServerName): Target {
  let url: string
  return {
    name: server,
    url: async (dir) => (url = await scratchUrl(server, `ferry_kill_${basename(dir).replace(/\W/g, '').toLowerCase()}`)),
    counts: async () => {
      const run = server === 'postgres' ? pgQueryAt : mysqlQueryAt
      return numbers((await run(url, countsSql))[0])
    },
  }
}

/**
 * Kills a 200k-row migration several times — at random moments, halfway through a batch write and
 * halfway through a checkpoint write — resuming after each; the end state must equal the source.
 */
function killTest(strategy: 'chunked' | 'parallel' | 'streaming', target: Target) {
  test(`${target.name} ${strategy}: SIGKILL at random moments, mid-write and mid-checkpoint, then resume`, async (t) => {
    const dir = tempDir()
    const sourceFile = join(dir, 'source.db')
    const next = random(strategy.length + target.name.length)
    // Gaps in the keys, so that chunks and key ranges differ.
    const ids = range(1, 200_000).map((i) => i * 3 + (i > 150_000 ? 1_000_000 : 0))
    const env = { SOURCE_URL: itemsDb(sourceFile, ids), TARGET_URL: await target.url(dir), STRATEGY: strategy, WORK_DIR: dir }
    const kills = [
      { fault: 'sink-write:37' },
      { afterMs: 1200 + Math.floor(next() * 1400) },
      { fault: 'checkpoint-write:4' },
      { afterMs: 1200 + Math.floor(next() * 1400) },
    ]
    let first = true
    for (const kill of kills) {
      const args = first ? [] : ['--resume']
      const outcome = await runChild({ ...env, ...(kill.fault && { FERRY_FAULT: kill.fault }) }, args, kill.afterMs)
      t.log(`${JSON.stringify(kill)} → ${outcome.signal ?? `exit ${outcome.code}`}`)
      if (kill.fault) t.is(outcome.signal, 'SIGKILL', outcome.output)
      // A fault fires after some batches, so a resumed run has logged where it resumed by then.
      if (!first && kill.fault) t.regex(outcome.output, /resuming from .*chunks done/)
      first = false
    }
    const last = await runChild(env, ['--resume'])
    t.is(last.code, 0, last.output)
    t.regex(last.output, /resuming from|no checkpoint/)
    t.regex(last.output, /validation \(checksum\): source 200000, expected 200000, target 200000: passed/)
    t.deepEqual(await target.counts(dir), { n: 200_000, d: 200_000, upper: 200_000 })
    t.deepEqual(readdirSync(join(dir, 'checkpoints')), [], 'a finished run removes its checkpoint')
    const reports = readdirSync(join(dir, 'reports')).filter((f) => f.endsWith('.json'))
    const final = JSON.parse(readFileSync(join(dir, 'reports', reports.sort().at(-1)!), 'utf8')) as { summary: { status: string } }
    t.is(final.summary.status, 'SUCCESS')
  })
}

// Asked before any test is declared: ava wants every declaration in one go.
const withServers = await requireServers('postgres', 'mysql')

for (const strategy of ['chunked', 'parallel', 'streaming'] as const) killTest(strategy, sqliteTarget)

if (withServers) {
  killTest('chunked', serverTarget('postgres'))
  killTest('parallel', serverTarget('mysql'))
  test.after.always(dropNamespaces)
}
