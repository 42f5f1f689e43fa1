import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { runPipeline, type RunResult } from '../src/run.js'
import type { Row } from '../src/types.js'
import { query, range, tempDir, testSettings } from './helpers.js'
import { ScratchPostgres } from './scratch-postgres.js'
import { dropNamespaces, mysqlQuery, mysqlQueryAt, pgQuery, pgQueryAt, requireServers, scratchUrl } from './servers.js'

// Issue 11, item 1: a source connection lost mid-read is reconnected and the partition's read goes
// on from the last page handed over. Every fault here is real: the server terminates the backend
// (pg_terminate_backend, MariaDB KILL) or a server of the test's own is stopped and started.

const rows = 6000
const run = `srcf_${process.pid.toString(36)}_${Date.now().toString(36)}`

/**
 * A transform that runs `fault` (awaited) when the row with each of `at`'s ids goes by, the first
 * time only: the reader is then mid-partition, some pages ahead of the writer.
 */
function faultAt(at: readonly number[], fault: () => Promise<void>): (row: Row) => Promise<Row> {
  const pending = new Set(at)
  return async (row) => {
    if (pending.delete(Number(row.id))) await fault()
    return row
  }
}

/**
 * The run ended exact, and (with `retried`) said that it read again after a failed read. A
 * connection killed while idle may instead be noticed before the next query, which then simply
 * opens a new one.
 */
function exact(t: ExecutionContext, result: RunResult, target: string, table: string, retried = true): void {
  t.is(result.status, 'SUCCESS', result.error?.message)
  t.is(result.stats.migrated, rows)
  t.true(result.validation?.passed, JSON.stringify(result.validation))
  t.is(result.validation?.mode, 'checksum')
  t.deepEqual(query(target, `SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d, SUM(id) AS s FROM "${table}"`), [{ n: rows, d: rows, s: (rows * (rows + 1)) / 2 }])
  const reads = result.stats.errors.filter((e) => e.message.startsWith('source read: '))
  for (const e of reads) t.is(e.resolved, e.count, 'every failed read was followed by a good one')
  t.log(`failed reads: ${reads.map((e) => `${e.count} × ${e.message}`).join('; ') || 'none'}`)
  if (!retried) return
  t.true(reads.length > 0, JSON.stringify(result.stats.errors))
  const log = readFileSync(result.logFile, 'utf8')
  t.regex(log, /read of `[^`]+` failed \(attempt 1\): .*; reading again from position \[\d+\] in \d+ ms/)
}

const pgReady = await requireServers('postgres')
const mysqlReady = await requireServers('mysql')

test.after.always(async () => {
  await dropNamespaces()
})

if (pgReady) {
  for (const strategy of ['streaming', 'chunked', 'parallel'] as const) {
    test(`postgres source backend killed twice mid-read (${strategy}): the read reconnects and the run ends exact`, async (t) => {
      const dir = tempDir()
      const app = `${run}_${strategy}`
      const base = await scratchUrl('postgres', `${run}_${strategy}`)
      await pgQueryAt(base, `CREATE TABLE items AS SELECT g AS id, md5(g::text) AS name, g % 100 AS qty FROM generate_series(1, ${rows}) g`, 'ALTER TABLE items ADD PRIMARY KEY (id)')
      const source = new URL(base)
      source.searchParams.set('application_name', app)
      const target = join(dir, 'target.db')
      let killed = 0
      const result = await runPipeline(
        testSettings(dir, {
          source: source.toString(),
          target: `sqlite:${target}`,
          sourceTable: 'items',
          strategy,
          chunkSize: 2000,
          numWorkers: 3,
          batchSize: 500,
          writeMode: 'insert',
          validate: 'checksum',
          retryDelay: 50,
          // Every source session of the run, each worker's too.
          transform: faultAt([1500, 4200], async () => {
            const [r] = await pgQuery<{ n: number }>([`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1`, [app]])
            killed += r!.n
          }),
        }),
      )
      t.log(`${killed} source backend(s) terminated`)
      t.true(killed >= 2)
      exact(t, result, target, 'items')
    })
  }

  const scratchProblem = ScratchPostgres.unavailable()
  if (scratchProblem) test.skip(`source server restart: ${scratchProblem}`, () => {})
  else {
    test('source server stopped mid-read and started 2 s later: the read retries until it is back, and the run ends exact', async (t) => {
      // A real restart of a server of the test's own (the shared one serves other tests meanwhile).
      const server = await ScratchPostgres.create()
      t.teardown(() => server.destroy())
      await pgQueryAt(server.url, `CREATE TABLE items AS SELECT g AS id, md5(g::text) AS name, g % 100 AS qty FROM generate_series(1, ${rows}) g`, 'ALTER TABLE items ADD PRIMARY KEY (id)')
      const dir = tempDir()
      const target = join(dir, 'target.db')
      let restarted: Promise<void> | undefined
      const result = await runPipeline(
        testSettings(dir, {
          source: server.url,
          target: `sqlite:${target}`,
          sourceTable: 'items',
          strategy: 'streaming',
          batchSize: 500,
          writeMode: 'insert',
          validate: 'checksum',
          // 0.4 + 0.8 + 1.6 + 3.2 s: longer than the 2 s the server is down.
          retryDelay: 400,
          maxRetries: 4,
          transform: faultAt([2000], async () => {
            await server.stop()
            restarted = new Promise((done) => setTimeout(done, 2000)).then(() => server.start())
          }),
        }),
      )
      await restarted
      exact(t, result, target, 'items')
    })
  }
}

if (mysqlReady) {
  test('mariadb source connection killed twice mid-read (parallel): the read reconnects and the run ends exact', async (t) => {
    const dir = tempDir()
    const db = `${run}_my`
    const url = await scratchUrl('mysql', db)
    await mysqlQueryAt(url, 'CREATE TABLE items (id BIGINT PRIMARY KEY, name VARCHAR(40), qty INT)', [
      'INSERT INTO items VALUES ?',
      [range(1, rows).map((i) => [i, `name ${i}`, i % 100])],
    ])
    const target = join(dir, 'target.db')
    let killed = 0
    const result = await runPipeline(
      testSettings(dir, {
        source: url,
        target: `sqlite:${target}`,
        sourceTable: 'items',
        strategy: 'parallel',
        chunkSize: 2000,
        numWorkers: 3,
        batchSize: 500,
        writeMode: 'insert',
        validate: 'checksum',
        retryDelay: 50,
        transform: faultAt([1500, 4200], async () => {
          // The run's source sessions are the only ones using this database.
          const ids = await mysqlQuery<{ id: number }>([`SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()`, [db]])
          for (const { id } of ids) await mysqlQuery(`KILL CONNECTION ${Number(id)}`).catch(() => {})
          killed += ids.length
        }),
      }),
    )
    t.log(`${killed} source connection(s) killed`)
    t.true(killed >= 2)
    exact(t, result, target, 'items', false)
  })
}
