import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { redact, redactUrl } from '../src/redact.js'
import { runPipeline } from '../src/run.js'
import type { Report } from '../src/report.js'
import { itemsDb, range, tempDir, testSettings } from './helpers.js'

test('the report holds the configuration, statistics and summary', async (t) => {
  const dir = tempDir()
  const result = await runPipeline(
    testSettings(dir, {
      source: itemsDb(join(dir, 'source.db'), range(1, 1234)),
      target: `sqlite:${join(dir, 'target.db')}`,
      sourceTable: 'items',
      batchSize: 100,
    }),
  )
  const report = JSON.parse(readFileSync(result.reportFile, 'utf8')) as Report
  t.is(report.pipeline, 'test')
  t.like(report.configuration, { sourceTable: 'items', batchSize: 100, strategy: 'chunked' })
  t.like(report.statistics, { total: 1234, migrated: 1234, failed: 0, skipped: 0, errors: [] })
  for (const field of ['startTime', 'endTime', 'elapsedSeconds', 'averageRate'] as const) {
    t.not(report.statistics[field], undefined, field)
  }
  t.like(report.summary, { status: 'SUCCESS', completion: 100 })
  t.regex(report.summary.speed, /^\d+ rows\/s$/)
  t.regex(report.summary.time, /^[\d.]+ s$/)
  t.deepEqual(report.statistics, result.stats, 'the API returns the statistics the report holds')
  t.like(report.validation, { passed: true, mode: 'count', sourceCount: 1234, targetCount: 1234 })
  const log = readFileSync(result.logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { msg: string })
  t.true(log.some((l) => /^SUCCESS: 1234 migrated/.test(l.msg)))
})

test('credentials never reach the report', (t) => {
  t.is(redactUrl('postgres://app:s3cret@db:5432/prod'), 'postgres://app:***@db:5432/prod')
  t.is(redactUrl('mysql://root@localhost/db'), 'mysql://root@localhost/db')
  t.deepEqual(
    redact({ source: 'postgres://u:p@h/d', target: { engine: 'mysql', user: 'u', password: 'p' }, transform: function upper() {} }),
    { source: 'postgres://u:***@h/d', target: { engine: 'mysql', user: 'u', password: '***' }, transform: '[function upper]' },
  )
})
