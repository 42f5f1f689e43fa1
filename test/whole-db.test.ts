// Issue 16: a whole database moved in every direction among SQLite, PostgreSQL and MariaDB; the
// target's catalog (tables, keys, indexes, foreign keys, defaults, identity, allowed values,
// checks) compared with the source's, the data by checksum validation.
import test from 'ava'
import { resolvePipeline, runPipeline } from '../src/run.js'
import { catalogOf, comparableTarget, shapeOf } from './catalog-shape.js'
import { fixtureSql, fixtureTables } from './fixtures/whole-db.js'
import { tempDir } from './helpers.js'
import { type Engine, type TestDb, testDb } from './kill-helpers.js'
import { dropNamespaces, requireServers } from './servers.js'

const engines: Engine[] = (await requireServers('postgres', 'mysql')) ? ['sqlite', 'postgres', 'mysql'] : ['sqlite']
test.after.always(dropNamespaces)

/** The next value the table's identity column gives a row inserted without it. */
async function nextId(db: TestDb): Promise<number> {
  if (db.engine === 'postgres') return Number((await db.sql(`INSERT INTO region (name) VALUES ('added') RETURNING id`))[0]!.id)
  const last = db.engine === 'mysql' ? 'LAST_INSERT_ID()' : 'last_insert_rowid()'
  return Number((await db.sql(`INSERT INTO region (name) VALUES ('added')`, `SELECT ${last} AS id`))[0]!.id)
}

for (const from of engines) {
  for (const to of engines) {
    test(`whole database ${from} → ${to}: every table, key, index, foreign key, default and check, data by checksum`, async (t) => {
      const dir = tempDir()
      const source = await testDb(from, dir, `wsrc_${to}`)
      const target = await testDb(to, dir, `wtgt_${from}`)
      await source.sql(...fixtureSql(from))
      const result = await runPipeline(
        resolvePipeline('whole', {
          source: source.url,
          target: target.url,
          tables: 'all',
          validate: 'checksum',
          batchSize: 100,
          checkpointDir: `${dir}/checkpoints`,
          logDir: `${dir}/logs`,
          reportDir: `${dir}/reports`,
          progressInterval: 60_000,
        }),
      )
      t.is(result.status, 'SUCCESS', result.error?.message)
      t.deepEqual(result.tables.map((r) => r.status), fixtureTables.map(() => 'SUCCESS'))
      t.true(result.tables.every((r) => r.validation?.mode === 'checksum' && r.validation.passed))
      const [want, got] = await Promise.all([catalogOf(source.url), catalogOf(target.url)])
      const wantShape = shapeOf(want)
      t.deepEqual(Object.keys(wantShape).sort(), fixtureTables)
      t.deepEqual(comparableTarget(wantShape, shapeOf(got), to === 'mysql'), wantShape)
      t.deepEqual(got.skipped, [], 'the target has nothing ferry did not make')
      t.true(want.skipped.some((k) => k.kind === 'view' && k.name === 'active_products'), 'the view is reported as not copied')
      t.is(await nextId(target), 5, 'the identity goes on past the largest key')
    })
  }
}

for (const to of engines.filter((e) => e !== 'sqlite')) {
  test(`a second copy into the existing ${to} target (truncate) drops its foreign keys among the tables for the load and adds them back`, async (t) => {
    const dir = tempDir()
    const source = await testDb('sqlite', dir, 'again_src')
    const target = await testDb(to, dir, `again_${to}`)
    await source.sql(...fixtureSql('sqlite'))
    const settings = (writeMode: 'upsert' | 'truncate') =>
      resolvePipeline('again', { source: source.url, target: target.url, tables: 'all', writeMode, checkpointDir: `${dir}/checkpoints`, logDir: `${dir}/logs`, reportDir: `${dir}/reports`, progressInterval: 60_000 })
    t.is((await runPipeline(settings('upsert'))).status, 'SUCCESS')
    const again = await runPipeline(settings('truncate'))
    t.is(again.status, 'SUCCESS', again.error?.message)
    const want = shapeOf(await catalogOf(source.url))
    t.deepEqual(comparableTarget(want, shapeOf(await catalogOf(target.url)), to === 'mysql'), want)
    t.is(Number((await target.sql('SELECT COUNT(*) AS n FROM order_line'))[0]!.n), 600)
  })
}
