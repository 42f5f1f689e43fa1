// Issue 10, item 1: inserts and upserts write only the columns the rows carry; a target column the
// transform does not produce keeps its value (update) or gets its default (insert).
import { join } from 'node:path'
import test from 'ava'
import { runPipeline } from '../src/run.js'
import { availableEngines, type Engine, runId } from './engines.js'
import { dropTables } from './servers.js'
import { itemsDb, range, tempDir, testSettings } from './helpers.js'

const run = runId('carried')
const engines = await availableEngines()

if (engines.length > 1) {
  test.after.always(async () => {
    await dropTables(new RegExp(`^${run}`)).catch(() => {})
  })
}

const notes = async (engine: Engine, dir: string, table: string) =>
  (await engine.rows<{ id: number; name: string; note: string | null }>(
    dir,
    `SELECT id, name, note FROM ${engine.q(table)} ORDER BY id`,
  )).map((r) => ({ id: Number(r.id), name: r.name, note: r.note }))

for (const engine of engines) {
  test(`an upsert leaves a target column the rows do not carry unchanged (${engine.name})`, async (t) => {
    const dir = tempDir()
    const table = `${run}_${engine.name}_upsert`
    const text = engine.name === 'mysql' ? 'VARCHAR(100)' : 'TEXT'
    await engine.run(
      dir,
      `CREATE TABLE ${engine.q(table)} (id INTEGER PRIMARY KEY, name ${text} NOT NULL, qty INTEGER, note ${text})`,
      `INSERT INTO ${engine.q(table)} (id, name, qty, note) VALUES ${range(1, 100).map((id) => `(${id}, 'old ${id}', 0, 'kept ${id}')`).join(', ')}`,
    )
    // The source rows (id, name, qty) carry no `note`.
    const result = await runPipeline(
      testSettings(dir, {
        source: itemsDb(join(dir, 'source.db'), range(1, 300)),
        target: engine.url(dir),
        sourceTable: 'items',
        targetTable: table,
        writeMode: 'upsert',
        batchSize: 64,
      }),
    )
    t.is(result.status, 'SUCCESS', result.error?.message)
    const rows = await notes(engine, dir, table)
    t.is(rows.length, 300)
    t.deepEqual(rows.slice(0, 100).map((r) => r.name), range(1, 100).map((id) => `item ${id}`), 'the carried column was updated')
    t.deepEqual(
      rows.slice(0, 100).map((r) => r.note),
      range(1, 100).map((id) => `kept ${id}`),
      'the `note` of the rows that were there is untouched by the upsert',
    )
    t.deepEqual(rows.slice(100).map((r) => r.note), Array(200).fill(null), 'new rows get the column default (NULL)')
  })

  test(`an insert gives a NOT NULL DEFAULT target column the rows do not carry its default (${engine.name})`, async (t) => {
    const dir = tempDir()
    const table = `${run}_${engine.name}_default`
    const text = engine.name === 'mysql' ? 'VARCHAR(100)' : 'TEXT'
    await engine.run(dir, `CREATE TABLE ${engine.q(table)} (id INTEGER PRIMARY KEY, name ${text} NOT NULL, qty INTEGER, note ${text} NOT NULL DEFAULT 'none')`)
    const result = await runPipeline(
      testSettings(dir, {
        source: itemsDb(join(dir, 'source.db'), range(1, 300)),
        target: engine.url(dir),
        sourceTable: 'items',
        targetTable: table,
        writeMode: 'insert',
        batchSize: 64,
      }),
    )
    t.is(result.status, 'SUCCESS', result.error?.message)
    t.is(result.stats.failed, 0, 'no row is rejected for the column it does not carry')
    const rows = await notes(engine, dir, table)
    t.is(rows.length, 300)
    t.deepEqual([...new Set(rows.map((r) => r.note))], ['none'])
  })

  test(`an upsert of new and existing rows keeps a NOT NULL DEFAULT column the rows do not carry (${engine.name})`, async (t) => {
    const dir = tempDir()
    const table = `${run}_${engine.name}_upsert_default`
    const text = engine.name === 'mysql' ? 'VARCHAR(100)' : 'TEXT'
    await engine.run(
      dir,
      `CREATE TABLE ${engine.q(table)} (id INTEGER PRIMARY KEY, name ${text} NOT NULL, qty INTEGER, note ${text} NOT NULL DEFAULT 'none')`,
      `INSERT INTO ${engine.q(table)} (id, name, qty, note) VALUES ${range(1, 50).map((id) => `(${id}, 'old', 0, 'kept')`).join(', ')}`,
    )
    const result = await runPipeline(
      testSettings(dir, {
        source: itemsDb(join(dir, 'source.db'), range(1, 200)),
        target: engine.url(dir),
        sourceTable: 'items',
        targetTable: table,
        writeMode: 'upsert',
        batchSize: 64,
        validate: 'checksum',
      }),
    )
    t.is(result.status, 'SUCCESS', result.error?.message)
    t.is(result.stats.failed, 0)
    const rows = await notes(engine, dir, table)
    t.deepEqual(
      rows.map((r) => r.note),
      [...Array(50).fill('kept'), ...Array(150).fill('none')],
    )
  })
}

test('rows the transform shapes wrongly after the sample are refused naming the column: an extra column, an undefined value, NaN', async (t) => {
  const dir = tempDir()
  const result = await runPipeline(
    testSettings(dir, {
      source: itemsDb(join(dir, 'source.db'), range(1, 1000)),
      target: `sqlite:${join(dir, 'target.db')}`,
      sourceTable: 'items',
      onRejectedRow: 'skip',
      transform: (r: Record<string, unknown>) => {
        const id = Number(r.id)
        if (id === 600) return { ...r, late: 'x' }
        if (id === 700) return { ...r, name: undefined }
        if (id === 800) return { ...r, qty: Number.NaN }
        return r
      },
    }),
  )
  t.is(result.status, 'REJECTED_ROWS', result.error?.message)
  t.is(result.stats.failed, 3)
  t.is(result.stats.migrated, 997)
  const messages = result.stats.errors.filter((e) => e.kind === 'rejected').map((e) => `${e.sampleKeys.join()}: ${e.message}`)
  t.deepEqual(messages.sort(), [
    '600: the row has column `late`, which `items` is not written with (id, name, qty)',
    '700: column `name` is undefined in the row (null writes NULL)',
    '800: column `qty` cannot hold NaN',
  ])
})
