// A sink that knows which rows the target refused (Oracle's executeMany with batchErrors, a bulk
// API's per-item results) commits the others and reports those by index: the core sets them aside
// as it does rows it isolates by splitting, without splitting.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { SqliteSink } from '../sinks/sqlite.js'
import { SinkWriteError } from '../src/errors.js'
import { runPipeline } from '../src/run.js'
import type { Sink } from '../src/sink.js'
import { exec, itemsDb, query, range, tempDir, testSettings } from './helpers.js'

/** A real SQLite sink that refuses rows with qty >= 95 by index, as a per-row bulk API reports them. */
function reportingSink(file: string, writes: { rows: number }[]): () => Sink {
  return () => {
    const sink: Sink = new SqliteSink(file)
    const write = sink.write.bind(sink)
    sink.write = async (target, rows, kind) => {
      writes.push({ rows: rows.length })
      const refused = rows.flatMap((r, index) => (Number(r.qty) >= 95 ? [{ index, error: new SinkWriteError(`qty ${String(r.qty)} is too large`, 'rejected') }] : []))
      await write(target, rows.filter((_, i) => !refused.some((r) => r.index === i)), kind)
      return refused.length ? { rejected: refused } : undefined
    }
    return sink
  }
}

const bad = range(1, 2000).filter((id) => id % 7 !== 0 && id % 100 >= 95)

test("rows a sink reports refused are set aside with onRejectedRow 'skip', and no batch is split", async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  exec(target, 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER)')
  const writes: { rows: number }[] = []
  const result = await runPipeline(
    testSettings(dir, {
      source: itemsDb(join(dir, 'source.db'), range(1, 2000)),
      target: reportingSink(target, writes),
      sourceTable: 'items',
      batchSize: 500,
      onRejectedRow: 'skip',
      validate: 'checksum',
    }),
  )
  t.is(result.status, 'REJECTED_ROWS', result.error?.message)
  t.is(result.stats.failed, bad.length)
  t.is(result.stats.migrated, 2000 - bad.length)
  t.deepEqual(writes, [{ rows: 500 }, { rows: 500 }, { rows: 500 }, { rows: 500 }], 'one write a batch: nothing was split')
  t.deepEqual(result.stats.errors.filter((e) => e.kind === 'split'), [])
  t.like(result.stats.errors.filter((e) => e.kind === 'rejected'), [{ message: 'qty 95 is too large', count: bad.length, resolved: bad.length }], 'one entry for the cause')
  const report = JSON.parse(readFileSync(result.reportFile, 'utf8')) as { summary: { rejectedRowsFile: string } }
  const lines = readFileSync(report.summary.rejectedRowsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { key: number })
  t.deepEqual(lines.map((l) => l.key), bad)
  t.is(result.validation?.passed, true, 'the refused rows are not expected in the target')
  t.is(query<{ n: number }>(target, 'SELECT COUNT(*) AS n FROM items')[0]!.n, 2000 - bad.length)
})

test('without skip, the first row a sink reports refused stops the run naming its key', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  exec(target, 'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER)')
  const result = await runPipeline(
    testSettings(dir, { source: itemsDb(join(dir, 'source.db'), range(1, 2000)), target: reportingSink(target, []), sourceTable: 'items', batchSize: 500 }),
  )
  t.is(result.status, 'FAILED')
  t.is(result.error?.message, 'target `items` rejected the row with key 95: qty 95 is too large')
})
