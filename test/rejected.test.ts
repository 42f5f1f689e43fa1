import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { runPipeline } from '../src/run.js'
import { exec, itemsDb, query, range, tempDir, testSettings } from './helpers.js'

/** A target that refuses rows with qty >= 95: a CHECK constraint, as a real schema would have. */
function strictTarget(file: string): string {
  exec(file, 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER CHECK (qty < 95))')
  return `sqlite:${file}`
}

test("onRejectedRow 'skip' sets refused rows aside and loads the rest of their batch", async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  const result = await runPipeline(
    testSettings(dir, {
      source: itemsDb(join(dir, 'source.db'), range(1, 2000)),
      target: strictTarget(target),
      sourceTable: 'items',
      batchSize: 500,
      onRejectedRow: 'skip',
    }),
  )
  const bad = range(1, 2000).filter((id) => id % 7 !== 0 && id % 100 >= 95)
  t.is(result.status, 'SUCCESS', result.error?.message)
  t.is(result.stats.failed, bad.length)
  t.is(result.stats.migrated, 2000 - bad.length)
  t.is(query<{ n: number }>(target, 'SELECT COUNT(*) AS n FROM items')[0]!.n, 2000 - bad.length)
  const report = JSON.parse(readFileSync(result.reportFile, 'utf8')) as { summary: { rejectedRowsFile: string } }
  const lines = readFileSync(report.summary.rejectedRowsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { key: number; error: string; row: { qty: number } })
  t.deepEqual(lines.map((l) => l.key), bad)
  t.regex(lines[0]!.error, /CHECK constraint failed/)
  t.is(lines[0]!.row.qty, 95)
  t.is(result.stats.errors.filter((e) => e.kind === 'rejected').length, bad.length)
  t.is(result.validation?.passed, true, 'rejected rows are not expected in the target')
})

test('without skip, the first refused row stops the run naming its key and the error', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  const result = await runPipeline(
    testSettings(dir, {
      source: itemsDb(join(dir, 'source.db'), range(1, 2000)),
      target: strictTarget(target),
      sourceTable: 'items',
      batchSize: 500,
    }),
  )
  t.is(result.status, 'FAILED')
  t.is(result.error?.name, 'RowRejectedError')
  t.is(result.error?.message, 'target `items` rejected the row with key 95: CHECK constraint failed: qty < 95')
  t.is(query<{ m: number }>(target, 'SELECT MAX(id) AS m FROM items')[0]!.m, 94, 'rows before it were loaded')
})
