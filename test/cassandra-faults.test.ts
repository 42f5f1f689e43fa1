import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { runPipeline, type RunResult } from '../src/run.js'
import type { Row } from '../src/types.js'
import { cassandraScratch, cql, cqlMany, requireCassandra } from './cassandra.js'
import { itemsDb, query, range, tempDir, testSettings } from './helpers.js'
import { TcpProxy } from './tcp-proxy.js'

// Lost connections to a real Cassandra node: a TCP proxy between ferry and the node cuts every
// connection, and later refuses connections for a second (the node unreachable, so the driver
// connects again from its contact point). A read that failed goes on from its last position, a
// write that failed is retried as upserts. The file also fails if the process does not exit after
// them (ava: "Failed to exit"): the driver once kept reconnecting a host it had dropped.

const rows = 4000

/** A transform that runs `fault` (awaited) when the nth row goes by, for each n of `at`. */
function faultAt(at: Record<number, () => Promise<void> | void>): (row: Row) => Promise<Row> {
  let seen = 0
  return async (row) => {
    seen += 1
    await at[seen]?.()
    return row
  }
}

/** The run ended exact, after failed attempts that were all followed by good ones. */
function exactAfterFailures(t: ExecutionContext, result: RunResult): void {
  t.is(result.status, 'SUCCESS', result.error?.message)
  t.is(result.stats.migrated, rows)
  t.true(result.validation?.passed, JSON.stringify(result.validation))
  t.is(result.validation?.mode, 'checksum')
  const failures = result.stats.errors.filter((e) => e.kind === 'transient')
  t.true(failures.length > 0, JSON.stringify(result.stats.errors))
  for (const e of failures) t.is(e.resolved, e.count, `every failed attempt was followed by a good one: ${e.message}`)
  t.log(`failed attempts: ${failures.map((e) => `${e.count} × ${e.message.slice(0, 120)}`).join('; ')}`)
}

if (await requireCassandra()) {
  const { keyspace, url } = cassandraScratch('faults')
  test.serial.before(async () => {
    await cql(`CREATE TABLE ${keyspace}.items (id int PRIMARY KEY, name text, qty int)`)
    await cqlMany(`INSERT INTO ${keyspace}.items (id, name, qty) VALUES (?, ?, ?)`, range(1, rows).map((id) => [id, `item ${id}`, id % 100]))
  })

  test('cassandra source: connections cut at row 900, the node unreachable for 1 s at row 2900; the read goes on and every row arrives once', async (t) => {
    const proxy = await TcpProxy.start(url, 'cassandra')
    t.teardown(() => proxy.close())
    const dir = tempDir()
    const target = join(dir, 'target.db')
    const result = await runPipeline(
      testSettings(dir, {
        source: proxy.url(url),
        target: `sqlite:${target}`,
        sourceTable: 'items',
        strategy: 'chunked',
        chunkSize: 1000,
        batchSize: 200,
        writeMode: 'insert',
        validate: 'checksum',
        retryDelay: 300,
        transform: faultAt({ 900: () => proxy.cutAll(), 2900: () => proxy.down(1000) }),
      }),
    )
    exactAfterFailures(t, result)
    t.true(result.stats.errors.some((e) => e.message.startsWith('source read: ')), JSON.stringify(result.stats.errors))
    t.deepEqual(query(target, 'SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d, SUM(id) AS s FROM items'), [{ n: rows, d: rows, s: (rows * (rows + 1)) / 2 }])
  })

  test('cassandra target: connections cut at row 1000, the node unreachable for 1 s at row 2500; failed writes are retried and every row is there once', async (t) => {
    const proxy = await TcpProxy.start(url, 'cassandra')
    t.teardown(() => proxy.close())
    const dir = tempDir()
    const result = await runPipeline(
      testSettings(dir, {
        source: itemsDb(join(dir, 'items.db'), range(1, rows)),
        target: proxy.url(url),
        sourceTable: 'items',
        targetTable: 'copied',
        batchSize: 200,
        writeMode: 'insert',
        validate: 'checksum',
        retryDelay: 300,
        transform: faultAt({ 1000: () => proxy.cutAll(), 2500: () => proxy.down(1000) }),
      }),
    )
    exactAfterFailures(t, result)
    t.is((await cql(`SELECT count(*) AS n FROM ${keyspace}.copied`))[0]!.n, BigInt(rows))
  })
}
