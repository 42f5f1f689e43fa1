import { execFile } from 'node:child_process'
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import test from 'ava'
import type { PipelineSettings, StepContext, TableSettings } from '../src/config.js'
import { check, dryRun } from '../src/dry-run.js'
import { createLogger } from '../src/log.js'
import { resolvePipeline, runPipeline } from '../src/run.js'
import type { Report } from '../src/report.js'
import { exec, itemsDb, query, range, tempDir } from './helpers.js'

/** A shop with three tables, the steps it runs recorded in `calls`. */
function shop(dir: string, calls: string[]): PipelineSettings {
  const file = join(dir, 'shop.db')
  itemsDb(file, range(1, 300), 'customers')
  itemsDb(file, range(1, 1000), 'orders')
  itemsDb(file, range(1, 700), 'payments')
  const step = (name: string) => async (ctx: StepContext) => {
    calls.push(ctx.table ? `${name}:${ctx.table}` : name)
  }
  return {
    source: `sqlite:${file}`,
    target: `sqlite:${join(dir, 'target.db')}`,
    checkpointDir: join(dir, 'checkpoints'),
    logDir: join(dir, 'logs'),
    reportDir: join(dir, 'reports'),
    progressInterval: 60_000,
    batchSize: 200,
    before: step('before'),
    after: step('after'),
    tables: [
      { sourceTable: 'customers', before: step('before'), after: step('after') },
      { sourceTable: 'orders', targetTable: 'orders_v2', where: 'qty > 10', strategy: 'parallel', numWorkers: 2, chunkSize: 200 },
      { sourceTable: 'payments', transform: (r) => ({ ...r, name: String(r.name).toUpperCase() }), after: step('after') },
    ],
  }
}

const count = (file: string, table: string) => query<{ n: number }>(file, `SELECT COUNT(*) AS n FROM "${table}"`)[0]!.n

test('a three-table pipeline runs its tables and steps in order and reports each table', async (t) => {
  const dir = tempDir()
  const calls: string[] = []
  const result = await runPipeline(resolvePipeline('shop', shop(dir, calls)))
  t.is(result.status, 'SUCCESS', result.error?.message)
  t.deepEqual(calls, ['before', 'before:customers', 'after:customers', 'after:payments', 'after'])
  const target = join(dir, 'target.db')
  t.is(count(target, 'customers'), 300)
  t.is(count(target, 'orders_v2'), query<{ n: number }>(join(dir, 'shop.db'), 'SELECT COUNT(*) AS n FROM orders WHERE qty > 10')[0]!.n)
  t.is(count(target, 'payments'), 700)
  const report = JSON.parse(readFileSync(result.reportFile, 'utf8')) as Report
  t.deepEqual(report.tables.map((r) => [r.targetTable, r.status, r.statistics.migrated]), [
    ['customers', 'SUCCESS', 300],
    ['orders_v2', 'SUCCESS', count(target, 'orders_v2')],
    ['payments', 'SUCCESS', 700],
  ])
  t.is(report.statistics.migrated, 300 + count(target, 'orders_v2') + 700)
  const log = readFileSync(result.logFile, 'utf8')
  t.regex(log, /tables:\\n {2}customers +SUCCESS +300 rows/)
  t.regex(log, /total +\d+ rows/)
  t.true(statSync(join(dir, 'checkpoints')).isDirectory())
})

test('--only runs a subset of the tables', async (t) => {
  const dir = tempDir()
  const result = await runPipeline(resolvePipeline('shop', shop(dir, []), {}, ['orders', 'payments']))
  t.is(result.status, 'SUCCESS', result.error?.message)
  t.deepEqual(result.tables.map((r) => r.sourceTable), ['orders', 'payments'])
  t.deepEqual(query(join(dir, 'target.db'), "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"), [{ name: 'orders_v2' }, { name: 'payments' }])
  t.throws(() => resolvePipeline('shop', shop(tempDir(), []), {}, ['refunds']), { message: /--only: pipeline `shop` has no table `refunds`; its tables: customers, orders, payments/ })
})

test('a failed table stops the run: later tables and the after steps do not run', async (t) => {
  const dir = tempDir()
  const calls: string[] = []
  const settings = shop(dir, calls)
  exec(join(dir, 'target.db'), 'CREATE TABLE orders_v2 (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER CHECK (qty < 50))')
  const result = await runPipeline(resolvePipeline('shop', settings))
  t.is(result.status, 'FAILED')
  t.regex(result.error!.message, /rejected the row with key/)
  t.deepEqual(result.tables.map((r) => r.status), ['SUCCESS', 'FAILED', 'NOT_RUN'])
  t.deepEqual(calls, ['before', 'before:customers', 'after:customers'])
})

test('a failing before step fails the run before anything is written', async (t) => {
  const dir = tempDir()
  const settings = shop(dir, [])
  settings.before = async (ctx) => ctx.sql('ALTER TABLE no_such_table ADD COLUMN x')
  const result = await runPipeline(resolvePipeline('shop', settings))
  t.is(result.status, 'FAILED')
  t.regex(result.error!.message, /before step of the pipeline failed: no such table: no_such_table/)
  t.deepEqual(result.tables.map((r) => r.status), ['NOT_RUN', 'NOT_RUN', 'NOT_RUN'])
})

test('a dry run prints the plan and leaves the target untouched', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  exec(target, "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER); INSERT INTO customers VALUES (1, 'kept', 1)")
  const before = readFileSync(target)
  const { logger, file } = createLogger({ pipeline: 'shop', logDir: join(dir, 'logs'), level: 'info', console: false, stamp: 'dry' })
  const plans = await dryRun(resolvePipeline('shop', { ...shop(dir, []), writeMode: 'recreate' }), logger)
  t.deepEqual(plans.map((p) => [p.sourceTable, p.rows, p.chunks, p.workers]), [
    ['customers', 300, 1, 1],
    ['orders', query<{ n: number }>(join(dir, 'shop.db'), 'SELECT COUNT(*) AS n FROM orders WHERE qty > 10')[0]!.n, 4, 2],
    ['payments', 700, 1, 1],
  ])
  t.is(plans[0]!.targetAction, 'drop and create, then insert')
  t.deepEqual(plans[0]!.columns, [
    { name: 'id', sourceType: 'INTEGER', targetType: 'INTEGER' },
    { name: 'name', sourceType: 'TEXT', targetType: 'TEXT' },
    { name: 'qty', sourceType: 'INTEGER', targetType: 'INTEGER' },
  ])
  t.deepEqual(readFileSync(target), before, 'the target file is byte for byte the same')
  t.deepEqual(query(target, 'SELECT * FROM customers'), [{ id: 1, name: 'kept', qty: 1 }])
  t.regex(readFileSync(file, 'utf8'), /dry run: nothing was written/)
})

test('deferIndexes drops secondary indexes for the load and builds them after', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  exec(target, 'CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER); CREATE INDEX customers_name ON customers (name)')
  const settings = { ...shop(dir, []), deferIndexes: true, writeMode: 'truncate' as const }
  const first = settings.tables![0] as TableSettings
  settings.tables = [
    {
      ...first,
      after: async (ctx) => {
        const indexes = query(target, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        ctx.log(`indexes at the after step: ${indexes.length}`)
      },
    },
  ]
  const result = await runPipeline(resolvePipeline('shop', settings))
  t.is(result.status, 'SUCCESS', result.error?.message)
  const log = readFileSync(result.logFile, 'utf8')
  t.regex(log, /dropped 1 secondary index/)
  t.regex(log, /built 1 index/)
  t.deepEqual(query(target, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"), [{ name: 'customers_name' }])
})

test('without a terminal the CLI prints progress as plain log lines, no bar', async (t) => {
  const dir = tempDir()
  const repo = resolve(import.meta.dirname, '..')
  const file = join(dir, 'p.ts')
  writeFileSync(
    file,
    `import { definePipeline } from '${join(repo, 'src', 'index.js')}'
export default definePipeline({ source: 'sqlite:${join(dir, 'shop.db')}', target: 'sqlite:${join(dir, 'out.db')}', sourceTable: 'orders', batchSize: 10, progressInterval: 20,
  transform: (r) => { const until = Date.now() + 1; while (Date.now() < until); return r } })
`,
  )
  itemsDb(join(dir, 'shop.db'), range(1, 300), 'orders')
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', import.meta.resolve('tsx'), join(repo, 'src', 'cli', 'main.ts'), file], { cwd: dir })
  t.regex(stdout, /INFO: \d+\/300 \(\d+\.\d%\) \| \d+ rows\/s \| ETA/)
  t.regex(stdout, /SUCCESS: 300 migrated/)
  t.notRegex(stdout, /\u001b\[|█|░/, 'no escape codes or bar characters')
})

test('--check opens both sides, counts the rows and estimates the time from the last run', async (t) => {
  const dir = tempDir()
  const settings = shop(dir, [])
  const { logger, file } = createLogger({ pipeline: 'shop', logDir: join(dir, 'logs'), level: 'info', console: false, stamp: 'check' })
  await check(resolvePipeline('shop', settings), logger)
  t.regex(readFileSync(file, 'utf8'), /ok: sqlite:.*shop\.db `customers` has 300 rows; .*`customers` will be created; no earlier run to estimate from/)
  t.is((await runPipeline(resolvePipeline('shop', settings))).status, 'SUCCESS')
  const again = createLogger({ pipeline: 'shop', logDir: join(dir, 'logs'), level: 'info', console: false, stamp: 'check2' })
  await check(resolvePipeline('shop', settings), again.logger)
  t.regex(readFileSync(again.file, 'utf8'), /`payments` exists \(3 columns\); about \d+s at \d+ rows\/s \(last run /)
  const missing = { ...settings, tables: [{ sourceTable: 'refunds' }] }
  await t.throwsAsync(check(resolvePipeline('shop', missing), again.logger), { message: /table `refunds` does not exist/ })
})
