import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { runPipeline } from '../src/run.js'
import { exec, itemsDb, query, range, tempDir, testSettings } from './helpers.js'
import { failingAfter } from './sink-faults.js'

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
  t.is(result.status, 'REJECTED_ROWS', 'rows were refused and the pipeline sets no maxRejectedRows')
  t.is(result.stats.failed, bad.length)
  t.is(result.stats.migrated, 2000 - bad.length)
  t.is(query<{ n: number }>(target, 'SELECT COUNT(*) AS n FROM items')[0]!.n, 2000 - bad.length)
  const report = JSON.parse(readFileSync(result.reportFile, 'utf8')) as { summary: { rejectedRowsFile: string } }
  const lines = readFileSync(report.summary.rejectedRowsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { key: number; error: string; row: { qty: number } })
  t.deepEqual(lines.map((l) => l.key), bad)
  t.regex(lines[0]!.error, /CHECK constraint failed/)
  t.is(lines[0]!.row.qty, 95)
  t.like(
    result.stats.errors.filter((e) => e.kind === 'rejected'),
    [{ message: 'CHECK constraint failed: qty < 95', count: bad.length, resolved: bad.length, sampleKeys: bad.slice(0, 10).map(String) }],
    'one entry for the cause, counting every row',
  )
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

test('rows set aside before a run failed are not expected by the resumed run’s checksum validation', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  strictTarget(target)
  const base = {
    source: itemsDb(join(dir, 'source.db'), range(1, 2000)),
    sourceTable: 'items',
    batchSize: 250,
    chunkSize: 700,
    checkpointInterval: 250,
    onRejectedRow: 'skip' as const,
    maxRejectedRows: 0.1,
    validate: 'checksum' as const,
  }
  const failed = await runPipeline(testSettings(dir, { ...base, target: failingAfter(target, 300) }))
  t.is(failed.status, 'FAILED')
  t.true(failed.stats.failed > 0, 'the failed run set rows aside')
  const resumed = await runPipeline(testSettings(dir, { ...base, target: failingAfter(target, Infinity), resume: true }))
  const bad = range(1, 2000).filter((id) => id % 7 !== 0 && id % 100 >= 95)
  t.is(resumed.status, 'SUCCESS_WITH_REJECTS', resumed.error?.message)
  t.like(resumed.validation, { passed: true, expectedCount: 2000 - bad.length, missingKeys: [] })
  t.is(query<{ n: number }>(target, 'SELECT COUNT(*) AS n FROM items')[0]!.n, 2000 - bad.length)
})
