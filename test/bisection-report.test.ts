// Issue 10, item 8: a batch the target refuses is split in halves down to single rows. Each
// bisection is logged at info level with its cause, and the report keeps it, aggregated: one entry
// per cause with a count and sample keys, not one per row.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { runPipeline } from '../src/run.js'
import { runId } from './engines.js'
import { exec, itemsDb, range, tempDir, testSettings } from './helpers.js'
import { dropTables, pgQuery, requireServers, servers } from './servers.js'

const withPostgres = await requireServers('postgres')
const run = runId('bisect')

interface LogLine {
  level: number
  msg?: string
  [field: string]: unknown
}

const logLines = (file: string): LogLine[] =>
  readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LogLine)

/** Info-or-above lines that speak of splitting a batch and name the cause. */
const bisectionLines = (file: string, cause: RegExp) =>
  logLines(file).filter((l) => l.level >= 30 && /\b(bisect|split)/i.test(JSON.stringify(l)) && cause.test(JSON.stringify(l)))

test('batches a CHECK constraint refuses are bisected with an info line naming the cause, and the report keeps one aggregated entry per cause (sqlite)', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  exec(target, 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, CHECK (id % 10 <> 0))')
  const bad = range(1, 5000).filter((id) => id % 10 === 0)
  const result = await runPipeline(
    testSettings(dir, {
      source: itemsDb(join(dir, 'source.db'), range(1, 5000)),
      target: `sqlite:${target}`,
      sourceTable: 'items',
      batchSize: 500,
      onRejectedRow: 'skip',
      logLevel: 'info',
    }),
  )
  t.is(result.stats.failed, bad.length)
  t.is(result.stats.migrated, 5000 - bad.length)
  const cause = /CHECK constraint failed/
  t.true(bisectionLines(result.logFile, cause).length > 0, 'an info line says a batch was split, and why')

  const report = JSON.parse(readFileSync(result.reportFile, 'utf8')) as { statistics: { errors: Record<string, unknown>[] } }
  const entries = report.statistics.errors.filter((e) => cause.test(String(e.message)))
  t.true(entries.length >= 1 && entries.length <= 2, `one entry per cause, not one per row: ${entries.length} entries`)
  t.true(
    entries.some((e) => Object.values(e).some((v) => typeof v === 'number' && v >= bad.length)),
    'an entry counts the rows (or bisections) of its cause',
  )
  const badKeys = new Set(bad.map(String))
  t.true(
    entries.some((e) => Object.values(e).some((v) => Array.isArray(v) && v.length > 0 && v.length < bad.length && v.every((k) => badKeys.has(String(k))))),
    'an entry lists sample keys',
  )
  t.true(JSON.stringify(report.statistics.errors).length < 10_000, 'the report stays small however many rows are rejected')
})

if (withPostgres) {
  test.after.always(async () => {
    await dropTables(new RegExp(`^${run}`)).catch(() => {})
  })

  test('a batch bisected down to single rows that all load is logged at info level with its cause and kept in the report (postgres)', async (t) => {
    const dir = tempDir()
    const table = `${run}_pairs`
    await pgQuery(`CREATE TABLE "${table}" (id integer PRIMARY KEY, name text NOT NULL)`)
    // Two source rows per target key: every batch upsert fails ("ON CONFLICT DO UPDATE command
    // cannot affect row a second time"), each single row succeeds. Slow, and it used to say nothing.
    const result = await runPipeline(
      testSettings(dir, {
        source: itemsDb(join(dir, 'source.db'), range(1, 1000)),
        target: servers.postgres,
        sourceTable: 'items',
        targetTable: table,
        writeMode: 'upsert',
        batchSize: 100,
        validate: false,
        logLevel: 'info',
        transform: (r: Record<string, unknown>) => ({ id: Math.ceil(Number(r.id) / 2), name: r.name }),
      }),
    )
    t.is(result.status, 'SUCCESS', result.error?.message)
    t.deepEqual(await pgQuery(`SELECT count(*)::int AS n FROM "${table}"`), [{ n: 500 }])
    const cause = /cannot affect row a second time/
    t.true(bisectionLines(result.logFile, cause).length > 0, 'an info line says the batches were split, and why')
    const report = JSON.parse(readFileSync(result.reportFile, 'utf8')) as { statistics: { errors: Record<string, unknown>[] } }
    const entries = report.statistics.errors.filter((e) => cause.test(String(e.message)))
    t.true(entries.length >= 1 && entries.length <= 2, `the report keeps the bisections, aggregated: ${JSON.stringify(report.statistics.errors).slice(0, 300)}`)
  })
}
