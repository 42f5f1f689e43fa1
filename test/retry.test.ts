import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { runPipeline } from '../src/run.js'
import type { Report } from '../src/report.js'
import { exec, itemsDb, query, range, tempDir, testSettings } from './helpers.js'
import { flakySqliteSink } from './sink-faults.js'

test('a write that fails twice then succeeds is retried and recorded as resolved', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  const result = await runPipeline(
    testSettings(dir, {
      source: itemsDb(join(dir, 'source.db'), range(1, 2500)),
      target: flakySqliteSink(target, 2),
      sourceTable: 'items',
      batchSize: 1000,
      maxRetries: 3,
      retryDelay: 20,
    }),
  )
  t.is(result.status, 'SUCCESS', result.error?.message)
  t.is(result.stats.migrated, 2500)
  t.is(query<{ n: number }>(target, 'SELECT COUNT(*) AS n FROM items')[0]!.n, 2500)
  const report = JSON.parse(readFileSync(result.reportFile, 'utf8')) as Report
  t.like(report.statistics.errors, [{ kind: 'transient', message: 'connection reset by peer', count: 2, resolved: 2, rows: 2000, sampleKeys: ['1'] }])
  t.truthy(report.statistics.errors[0]!.firstTime)
  t.regex(readFileSync(result.logFile, 'utf8'), /write of 1000 rows to `items` failed \(attempt 2\): connection reset by peer; retrying in 0\.04 s \(2 more tries\)/)
})

test('a write that keeps failing stops the run after maxRetries, unresolved', async (t) => {
  const dir = tempDir()
  const result = await runPipeline(
    testSettings(dir, {
      source: itemsDb(join(dir, 'source.db'), range(1, 100)),
      target: flakySqliteSink(join(dir, 'target.db'), 100),
      sourceTable: 'items',
      maxRetries: 2,
      retryDelay: 1,
    }),
  )
  t.is(result.status, 'FAILED')
  t.is(result.error?.message, 'connection reset by peer')
  t.like(result.stats.errors, [{ kind: 'transient', count: 3, resolved: 0 }], 'three failed attempts, none resolved, one entry')
})

test('a transient failure on a target without a unique key is not retried: a retry could write the batch twice', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  exec(target, 'CREATE TABLE items (id INTEGER, name TEXT, qty INTEGER)')
  const result = await runPipeline(
    testSettings(dir, {
      source: itemsDb(join(dir, 'source.db'), range(1, 100)),
      target: flakySqliteSink(target, 1),
      sourceTable: 'items',
      writeMode: 'insert',
      checkpoints: false,
      validate: false,
    }),
  )
  t.is(result.status, 'FAILED')
  t.regex(result.error?.message ?? '', /connection reset by peer; not retried: `items` has no unique key on \(id\), so a retry could write the batch twice/)
  t.is(query<{ n: number }>(target, 'SELECT COUNT(*) AS n FROM items')[0]!.n, 0)
})
