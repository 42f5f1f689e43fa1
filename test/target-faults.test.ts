import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { runPipeline, type RunResult } from '../src/run.js'
import type { Row } from '../src/types.js'
import { itemsDb, range, tempDir, testSettings } from './helpers.js'
import { ScratchPostgres } from './scratch-postgres.js'
import { dropNamespaces, mysqlQueryAt, pgQueryAt, requireServers, scratchUrl } from './servers.js'
import { TcpProxy } from './tcp-proxy.js'

// Issue 11, items 2 and 3: a target that is down for 20 s, and a COMMIT whose reply is lost. The
// faults are real: a PostgreSQL server of the test's own is stopped and started (the shared one
// serves other tests meanwhile); MariaDB is reached through a TCP proxy (test/tcp-proxy.ts) that
// closes its port for 20 s, or forwards a COMMIT to the server and cuts the connection before
// the reply reaches ferry.

const rows = 6000
const run = `tgtf_${process.pid.toString(36)}_${Date.now().toString(36)}`
const sum = (rows * (rows + 1)) / 2

/** A transform that runs `fault` (awaited) when the row with id `at` goes by, once. */
function faultAt(at: number, fault: () => Promise<void> | void): (row: Row) => Promise<Row> {
  let done = false
  return async (row) => {
    if (!done && row.id === at) {
      done = true
      await fault()
    }
    return row
  }
}

/** The run ended exact with every row written once, after write retries the log shows. */
async function exact(t: ExecutionContext, result: RunResult, counted: () => Promise<unknown>): Promise<void> {
  t.is(result.status, 'SUCCESS', result.error?.message)
  t.is(result.stats.migrated, rows)
  t.is(result.stats.failed, 0, 'no row was refused (as a duplicate)')
  t.true(result.validation?.passed, JSON.stringify(result.validation))
  t.is(result.validation?.mode, 'checksum')
  t.deepEqual(await counted(), { n: rows, d: rows, s: sum })
  t.regex(readFileSync(result.logFile, 'utf8'), /write of \d+ rows to `items` failed \(attempt 1\)/)
  const transient = result.stats.errors.filter((e) => e.kind === 'transient')
  t.true(transient.length > 0)
  for (const e of transient) t.is(e.resolved, e.count, `resolved: ${e.message}`)
  t.log(transient.map((e) => `${e.count} × ${e.message}`).join('; '))
}

/** Settings of these runs: plain inserts, checksum validation, refused rows set aside (none may be). */
const load = (dir: string, target: string, extra: object) =>
  testSettings(dir, {
    source: itemsDb(join(dir, 'source.db'), range(1, rows)),
    target,
    sourceTable: 'items',
    strategy: 'chunked',
    chunkSize: 2000,
    batchSize: 500,
    writeMode: 'insert',
    onRejectedRow: 'skip',
    validate: 'checksum',
    ...extra,
  })

// 1 + 2 + 4 + 8 + 16 = 31 s of retries: a 20 s outage is survived with room to spare.
const outageRetries = { retryDelay: 1000, maxRetries: 5 }

const pgReady = await requireServers('postgres')
const mysqlReady = await requireServers('mysql')

test.after.always(async () => {
  await dropNamespaces()
})

if (pgReady) {
  const scratchProblem = ScratchPostgres.unavailable()
  if (scratchProblem) test.skip(`postgres target down for 20 s: ${scratchProblem}`, () => {})
  else {
    test('postgres target server stopped for 20 s mid-run: writes retry until it is back, and the run ends exact', async (t) => {
      const server = await ScratchPostgres.create()
      t.teardown(() => server.destroy())
      const dir = tempDir()
      let back: Promise<void> | undefined
      const started = Date.now()
      const result = await runPipeline(
        load(dir, server.url, {
          ...outageRetries,
          transform: faultAt(2500, async () => {
            await server.stop()
            back = new Promise((done) => setTimeout(done, 20_000)).then(() => server.start())
          }),
        }),
      )
      await back
      t.log(`run took ${((Date.now() - started) / 1000).toFixed(1)} s`)
      await exact(t, result, async () => (await pgQueryAt(server.url, 'SELECT count(*)::int AS n, count(DISTINCT id)::int AS d, sum(id)::int AS s FROM items'))[0])
    })
  }

  test('postgres: the reply to a COMMIT is lost; the retry replays the batch as an upsert, no row is refused or doubled', async (t) => {
    const url = await scratchUrl('postgres', `${run}_pgcommit`)
    const proxy = await TcpProxy.start(url, 'postgres')
    t.teardown(() => proxy.close())
    // The first COMMIT prepares the table; the third commits the second batch.
    const dropped = proxy.dropCommitReply(3)
    const dir = tempDir()
    const result = await runPipeline(load(dir, proxy.url(url), { retryDelay: 50 }))
    await dropped
    t.is(proxy.dropped, 1)
    await exact(t, result, async () => (await pgQueryAt(url, 'SELECT count(*)::int AS n, count(DISTINCT id)::int AS d, sum(id)::int AS s FROM items'))[0])
  })
}

if (mysqlReady) {
  const myCount = (url: string) => async () =>
    (await mysqlQueryAt<Record<string, unknown>>(url, 'SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d, CAST(SUM(id) AS SIGNED) AS s FROM items'))[0]

  test('mariadb target down for 20 s mid-run (proxy refuses connections): writes retry until it is back, and the run ends exact', async (t) => {
    const url = await scratchUrl('mysql', `${run}_myoutage`)
    const proxy = await TcpProxy.start(url, 'mysql')
    t.teardown(() => proxy.close())
    const dir = tempDir()
    let back: Promise<void> | undefined
    const result = await runPipeline(
      load(dir, proxy.url(url), {
        ...outageRetries,
        transform: faultAt(2500, () => {
          back = proxy.down(20_000)
        }),
      }),
    )
    await back
    await exact(t, result, myCount(url))
  })

  test('mariadb: the reply to a COMMIT is lost; the retry replays the batch as an upsert, no row is refused or doubled', async (t) => {
    const url = await scratchUrl('mysql', `${run}_mycommit`)
    const proxy = await TcpProxy.start(url, 'mysql')
    t.teardown(() => proxy.close())
    // Table creation commits implicitly: the third COMMIT is the third batch's.
    const dropped = proxy.dropCommitReply(3)
    const dir = tempDir()
    const result = await runPipeline(load(dir, proxy.url(url), { retryDelay: 50 }))
    await dropped
    t.is(proxy.dropped, 1)
    await exact(t, result, myCount(url))
  })
}
