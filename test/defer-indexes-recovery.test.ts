// Issue 10, item 9: `deferIndexes` must never lose an index. Its definition is saved durably
// before it is dropped, it is rebuilt idempotently, and it is rebuilt (or reported) on every path
// out of a run: success, failure, kill then resume, kill then fresh run, `checkpoints: false`.
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import type { PipelineSettings } from '../src/config.js'
import { runPipeline } from '../src/run.js'
import { availableEngines, type Engine, ferryIndex, runId } from './engines.js'
import { dropTables } from './servers.js'
import { itemsDb, range, tempDir, testSettings } from './helpers.js'

const run = runId('defer')
const engines = await availableEngines()
const main = join(resolve(import.meta.dirname, '..'), 'src', 'cli', 'main.ts')

if (engines.length > 1) {
  test.after.always(async () => {
    await dropTables(new RegExp(`^${run}`)).catch(() => {})
  })
}

/** The names of the table's secondary (non-key) indexes. */
async function indexes(engine: Engine, dir: string, table: string): Promise<string[]> {
  const sql = {
    sqlite: `SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = '${table}' ORDER BY name`,
    postgres: `SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() AND tablename = '${table}' AND indexname NOT LIKE '%_pkey' ORDER BY 1`,
    mysql: `SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}' AND INDEX_NAME <> 'PRIMARY' ORDER BY 1`,
  }[engine.name]
  return (await engine.rows<{ name: string }>(dir, sql)).map((r) => r.name)
}

/** A target table with a secondary index on `name`; rows with qty >= 95 break its CHECK. */
async function indexedTarget(engine: Engine, dir: string, table: string, index: string): Promise<void> {
  const text = engine.name === 'mysql' ? 'VARCHAR(100)' : 'TEXT'
  await engine.run(
    dir,
    `CREATE TABLE ${engine.q(table)} (id INTEGER PRIMARY KEY, name ${text} NOT NULL, qty INTEGER, CHECK (qty < 95))`,
    `CREATE INDEX ${engine.q(index)} ON ${engine.q(table)} (name)`,
  )
}

for (const engine of engines) {
  test(`deferIndexes: a run that fails during the load, then a fresh run, leaves the dropped index in place (${engine.name})`, async (t) => {
    const dir = tempDir()
    const table = `${run}_${engine.name}_failed`
    const index = `${table}_name`
    await indexedTarget(engine, dir, table, index)
    const source = itemsDb(join(dir, 'source.db'), range(1, 2000))
    const settings = (extra: Partial<PipelineSettings>) =>
      testSettings(dir, {
        source,
        target: engine.url(dir),
        sourceTable: 'items',
        targetTable: table,
        deferIndexes: true,
        batchSize: 200,
        ...extra,
      })
    const failed = await runPipeline(settings({}))
    t.is(failed.status, 'FAILED')
    const after = await indexes(engine, dir, table)
    const said = [failed.error?.message ?? '', readFileSync(failed.logFile, 'utf8'), readFileSync(failed.reportFile, 'utf8')].join('\n')
    t.true(after.includes(index) || said.includes(index), `the failed run rebuilt the index or reported it by name (indexes now: ${after.join(', ') || 'none'})`)

    const fresh = await runPipeline(settings({ where: 'qty < 95 OR qty IS NULL' }))
    t.is(fresh.status, 'SUCCESS', fresh.error?.message)
    t.deepEqual(await indexes(engine, dir, table), [index], 'the index dropped by the failed run is back')
  })

  test(`deferIndexes: a failing after step, then --resume, builds the index once, without "already exists" (${engine.name})`, async (t) => {
    const dir = tempDir()
    const table = `${run}_${engine.name}_after`
    const index = `${table}_name`
    await indexedTarget(engine, dir, table, index)
    let failAfter = true
    const source = itemsDb(join(dir, 'source.db'), range(1, 90))
    const settings = (resume: boolean) =>
      testSettings(dir, {
        source,
        target: engine.url(dir),
        sourceTable: 'items',
        targetTable: table,
        deferIndexes: true,
        resume,
        after: () => {
          if (failAfter) throw new Error('after step broke')
        },
      })
    const failed = await runPipeline(settings(false))
    t.is(failed.status, 'FAILED')
    t.regex(failed.error?.message ?? '', /after step broke/)
    failAfter = false
    for (let attempt = 1; attempt <= 2; attempt++) {
      const resumed = await runPipeline(settings(true))
      t.is(resumed.status, 'SUCCESS', `attempt ${attempt}: ${resumed.error?.message}`)
      t.notRegex(resumed.error?.message ?? '', /already exists/)
    }
    t.deepEqual(await indexes(engine, dir, table), [index])
  })
}

/** Runs a pipeline file with the CLI; resolves with the exit code or the signal that ended it. */
function cli(cwd: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; signal: string | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...args], { cwd, env: { ...process.env, ...env } })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    child.on('error', fail)
    child.on('exit', (code, signal) => done({ code, signal, output }))
  })
}

/**
 * A SQLite pipeline file with deferIndexes; its transform kills the process with SIGKILL at key
 * 1500 when KILL_MID_LOAD=1 (past the rows the run samples before it writes).
 */
function killPipeline(dir: string, extra: string): string {
  const file = join(dir, 'defer.ts')
  writeFileSync(
    file,
    `import { definePipeline } from '${ferryIndex}'
import { planningKillSource } from '${join(import.meta.dirname, 'fixtures', 'planning-kill-source.js')}'
export default definePipeline({
  target: 'sqlite:${join(dir, 'target.db')}', sourceTable: 'items', strategy: 'chunked', chunkSize: 500, batchSize: 100,
  checkpointInterval: 100, deferIndexes: true,
  checkpointDir: '${join(dir, 'checkpoints')}', logDir: '${join(dir, 'logs')}', reportDir: '${join(dir, 'reports')}',
  transform: (r) => {
    if (r.id === 1500 && process.env.KILL_MID_LOAD === '1') process.kill(process.pid, 'SIGKILL')
    return r
  },
  ${extra}
})
`,
  )
  return file
}

const sqliteIndexes = (dir: string) => indexes(engines[0]!, dir, 'items')

async function killedThenRerun(
  t: ExecutionContext,
  extra: (sourceFile: string) => string,
  killEnv: Record<string, string>,
  rerunArgs: string[],
): Promise<void> {
  const dir = tempDir()
  const sourceFile = join(dir, 'source.db')
  itemsDb(sourceFile, range(1, 3000))
  await engines[0]!.run(dir, 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER)', 'CREATE INDEX items_name ON items (name)')
  const file = killPipeline(dir, extra(sourceFile))
  const killed = await cli(dir, [file], killEnv)
  t.is(killed.signal, 'SIGKILL', killed.output)
  const rerun = await cli(dir, [file, ...rerunArgs], {})
  t.is(rerun.code, 0, rerun.output)
  t.deepEqual(await sqliteIndexes(dir), ['items_name'], 'after the rerun the index is there')
}

test('deferIndexes: a run killed during the load, then a fresh (not resumed) run, leaves the index in place (sqlite)', async (t) => {
  await killedThenRerun(t, (file) => `source: 'sqlite:${file}',`, { KILL_MID_LOAD: '1' }, [])
})

test('deferIndexes with checkpoints: false: a run killed during the load, then run again, leaves the index in place (sqlite)', async (t) => {
  await killedThenRerun(t, (file) => `source: 'sqlite:${file}', checkpoints: false,`, { KILL_MID_LOAD: '1' }, [])
})

test('deferIndexes: a run killed while planning (index dropped, plan not yet saved), then --resume, leaves the index in place (sqlite)', async (t) => {
  await killedThenRerun(t, (file) => `source: () => planningKillSource('${file}'),`, { KILL_AT_PLANNING: '1' }, ['--resume'])
})
