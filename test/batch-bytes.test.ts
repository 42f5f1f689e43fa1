import { join } from 'node:path'
import test from 'ava'
import { createSink as pgSink } from '../sinks/postgres.js'
import { SqliteSink } from '../sinks/sqlite.js'
import { rowsBytes } from '../src/row-bytes.js'
import { runPipeline } from '../src/run.js'
import type { Sink } from '../src/sink.js'
import type { Row } from '../src/types.js'
import { exec, itemsDb, query, range, tempDir, testSettings } from './helpers.js'
import { dropNamespaces, pgQueryAt, requireServers, scratchUrl } from './servers.js'

// Issue 15: a write ends at `batchBytes` as well as at `batchSize`, so memory follows a byte
// budget whatever the row width. Rows of ~10 KB, batchSize 1000, batchBytes 200 KB: about 20 rows
// a write.
const rows = 600
const width = 10_000
const budget = 200_000

/** The sink, recording the size of every batch it is asked to write. */
function recording(sink: Sink, batches: { rows: number; bytes: number }[]): Sink {
  const write = sink.write.bind(sink)
  sink.write = (target, batch, kind) => {
    batches.push({ rows: batch.length, bytes: rowsBytes(batch as Row[]) })
    return write(target, batch, kind)
  }
  return sink
}

function within(t: import('ava').ExecutionContext, batches: { rows: number; bytes: number }[]): void {
  t.is(batches.reduce((n, b) => n + b.rows, 0), rows)
  // A page ends at the row that reaches the budget: at most one row past it.
  t.true(batches.every((b) => b.bytes <= budget + width + 100), JSON.stringify(batches))
  t.true(batches.length >= (rows * width) / (budget + width), `${batches.length} writes`)
}

// Asked before any test is declared: ava wants every declaration in one go.
const withPostgres = await requireServers('postgres')

test('sqlite → sqlite: rows of 10 KB are written about 20 at a time under batchBytes 200 KB, batchSize 1000', async (t) => {
  const dir = tempDir()
  const source = join(dir, 'source.db')
  exec(source, `CREATE TABLE wide (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`)
  exec(source, `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${rows}) INSERT INTO wide SELECT n, printf('%.*c', ${width}, 'x') FROM s`)
  const batches: { rows: number; bytes: number }[] = []
  const target = join(dir, 'target.db')
  const result = await runPipeline(
    testSettings(dir, { source: `sqlite:${source}`, target: () => recording(new SqliteSink(target), batches), sourceTable: 'wide', strategy: 'streaming', batchSize: 1000, batchBytes: budget }),
  )
  t.is(result.status, 'SUCCESS', result.error?.message)
  within(t, batches)
  t.deepEqual(query(target, 'SELECT count(*) AS n, sum(length(body)) AS w FROM wide'), [{ n: rows, w: rows * width }])
})

test('narrow rows under the default 4 MB budget are written batchSize at a time: the first page, which measures the width, is merged into the first write', async (t) => {
  const dir = tempDir()
  const batches: { rows: number; bytes: number }[] = []
  const target = join(dir, 'target.db')
  const result = await runPipeline(
    testSettings(dir, { source: itemsDb(join(dir, 'source.db'), range(1, 2500)), target: () => recording(new SqliteSink(target), batches), sourceTable: 'items', strategy: 'streaming' }),
  )
  t.is(result.status, 'SUCCESS', result.error?.message)
  t.deepEqual(batches.map((b) => b.rows), [1000, 1000, 500])
})

if (withPostgres) {
  test.after.always(dropNamespaces)

  test('postgres → postgres decoded: rows of 10 KB are read from the cursor and written about 20 at a time under batchBytes 200 KB', async (t) => {
    const url = await scratchUrl('postgres', `ferry_batch_bytes_${process.pid}`)
    await pgQueryAt(url, 'CREATE TABLE wide (id int PRIMARY KEY, body text NOT NULL)', `INSERT INTO wide SELECT n, repeat('x', ${width}) FROM generate_series(1, ${rows}) n`)
    const batches: { rows: number; bytes: number }[] = []
    const dir = tempDir()
    const result = await runPipeline(
      testSettings(dir, { source: url, target: () => recording(pgSink(url), batches), sourceTable: 'wide', targetTable: 'wide_copy', strategy: 'streaming', batchSize: 1000, batchBytes: budget, passthrough: false }),
    )
    t.is(result.status, 'SUCCESS', result.error?.message)
    within(t, batches)
    t.deepEqual(await pgQueryAt(url, 'SELECT count(*)::int AS n, sum(length(body))::int AS w FROM wide_copy'), [{ n: rows, w: rows * width }])
  })
}
