// Issue 10, item 10: a parallel run reports the first real error, not the AbortError of the
// workers it stopped; a worker's connection error is bad input (exit 2); workers rejecting rows at
// the same moment do not race to create the rejected-rows folder.
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import test from 'ava'
import { runPipeline } from '../src/run.js'
import { ferryIndex, runId } from './engines.js'
import { exec, itemsDb, range, tempDir, testSettings } from './helpers.js'
import { pgQuery, requireServers, servers } from './servers.js'

const withPostgres = await requireServers('postgres')
const run = runId('par')

const main = join(resolve(import.meta.dirname, '..'), 'src', 'cli', 'main.ts')
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

test('a parallel run whose worker 3 has a row rejected reports that rejection, not the AbortError of worker 0', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  exec(target, 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, CHECK (id <> 1510))')
  const result = await runPipeline(
    testSettings(dir, {
      source: itemsDb(join(dir, 'source.db'), range(1, 2000)),
      target: `sqlite:${target}`,
      sourceTable: 'items',
      strategy: 'parallel',
      numWorkers: 4,
      chunkSize: 500,
      batchSize: 100,
      // Worker 0's chunk (keys up to 500) is slow, so it is still running when worker 3 fails.
      transform: async (r: Record<string, unknown>) => {
        if (Number(r.id) <= 500) await sleep(3)
        return r
      },
    }),
  )
  t.is(result.status, 'FAILED')
  t.notRegex(result.error?.message ?? '', /aborted/i)
  t.not(result.error?.name, 'AbortError')
  t.regex(result.error?.message ?? '', /rejected the row with key 1510/)
})

if (withPostgres) {
  const role = `${run}_writer`
  const table = `${run}_items`
  test.after.always(async () => {
    await pgQuery(`DROP TABLE IF EXISTS "${table}"`, `DROP ROLE IF EXISTS "${role}"`).catch(() => {})
  })

  test('a parallel worker whose target connection is lost and cannot be reopened ends the CLI with exit 2 and that connection error, not exit 1 and an AbortError (postgres)', async (t) => {
    const dir = tempDir()
    await pgQuery(
      `CREATE TABLE "${table}" (id integer PRIMARY KEY, name text NOT NULL, qty integer)`,
      `CREATE ROLE "${role}" LOGIN`,
      `GRANT ALL ON "${table}" TO "${role}"`,
    )
    const url = new URL(servers.postgres)
    url.username = role
    const file = join(dir, 'par.ts')
    writeFileSync(
      file,
      `import { definePipeline } from '${ferryIndex}'
export default definePipeline({
  source: 'sqlite:${join(dir, 'source.db')}', target: '${url.toString()}', sourceTable: 'items', targetTable: '${table}',
  writeMode: 'insert', strategy: 'parallel', numWorkers: 4, chunkSize: 500, batchSize: 20, validate: false,
  maxRetries: 2, retryDelay: 20,
  checkpointDir: '${join(dir, 'checkpoints')}', logDir: '${join(dir, 'logs')}', reportDir: '${join(dir, 'reports')}',
  transform: async (r) => { await new Promise((done) => setTimeout(done, 4)); return r },
})
`,
    )
    itemsDb(join(dir, 'source.db'), range(1, 2000))
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), main, file], { cwd: dir })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)))
    // Once the run's own target connection and the three workers' are open, the role may keep only
    // one connection and the workers' connections are cut: their writes fail, and so do their reconnects.
    const backends = `SELECT pid, backend_start FROM pg_stat_activity WHERE usename = '${role}' ORDER BY backend_start`
    const deadline = Date.now() + 20_000
    let rows: { pid: number }[] = []
    while (Date.now() < deadline && (rows = await pgQuery<{ pid: number }>(backends)).length < 4) await sleep(20)
    t.is(rows.length, 4, `four target connections (the run's and three workers'): ${output}`)
    await pgQuery(`ALTER ROLE "${role}" CONNECTION LIMIT 1`, `SELECT pg_terminate_backend(pid) FROM (${backends} OFFSET 1) w`)
    const code = await exited
    t.notRegex(output, /operation was aborted|AbortError/i)
    t.regex(output, /too many connections for role|terminat/i)
    t.is(code, 2, output)
  })
}

test('parallel workers rejecting rows at the same moment all reach the rejected-rows file (no ENOENT), 10 runs in a row', async (t) => {
  const failures: string[] = []
  for (let attempt = 1; attempt <= 10; attempt++) {
    const dir = tempDir()
    const target = join(dir, 'target.db')
    // The first row of every chunk is refused: four workers reject a row within the same moment.
    exec(target, 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, CHECK (id % 100 <> 1))')
    const result = await runPipeline(
      testSettings(dir, {
        source: itemsDb(join(dir, 'source.db'), range(1, 400)),
        target: `sqlite:${target}`,
        sourceTable: 'items',
        strategy: 'parallel',
        numWorkers: 4,
        chunkSize: 100,
        batchSize: 100,
        onRejectedRow: 'skip',
        // Each run has a fresh folder: the reports folder does not exist until the first reject.
        reportDir: join(dir, 'reports', 'nested'),
      }),
    )
    const cause = (result.error?.cause as Error | undefined)?.message
    if (result.error && /ENOENT|abort/i.test(`${result.error.name} ${result.error.message} ${cause ?? ''}`)) {
      failures.push(`run ${attempt}: ${result.error.name}: ${result.error.message}${cause ? ` (cause: ${cause})` : ''}`)
      continue
    }
    const report = JSON.parse(readFileSync(result.reportFile, 'utf8')) as { summary: { rejectedRowsFile?: string } }
    const keys = report.summary.rejectedRowsFile
      ? readFileSync(report.summary.rejectedRowsFile, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { key: number }).key).sort((a, b) => a - b)
      : []
    if (keys.join() !== '1,101,201,301') failures.push(`run ${attempt}: rejected-rows file holds ${keys.join() || 'nothing'}`)
  }
  t.deepEqual(failures, [])
})
