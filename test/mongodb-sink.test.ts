// The MongoDB sink on a real server (FerretDB): documents keyed by the target key, upserts that
// touch only carried fields, refused documents isolated without losing or duplicating the others.
import { join } from 'node:path'
import test from 'ava'
import { Int32, Long } from 'mongodb'
import { runPipeline } from '../src/run.js'
import type { Row } from '../src/types.js'
import { exec, itemsDb, range, tempDir, testSettings } from './helpers.js'
import { mongoScratch, withSinkAt } from './mongodb.js'
import { dropNamespaces, requireServers } from './servers.js'

if (await requireServers('mongodb')) {
  const scratch = await mongoScratch('sink')
  test.after.always(dropNamespaces)
  const docs = (table: string, filter = {}) => scratch.db((db) => db.collection(table).find(filter).sort({ _id: 1 }).toArray())

  test('rows become documents: the key is _id, columns are fields of their BSON types', async (t) => {
    const dir = tempDir()
    const result = await runPipeline(
      testSettings(dir, { source: itemsDb(join(dir, 's.db'), range(1, 1500)), target: scratch.url, sourceTable: 'items', targetTable: 'plain', writeMode: 'insert', validate: 'checksum', batchSize: 400 }),
    )
    t.is(result.status, 'SUCCESS', result.error?.message)
    const all = await docs('plain')
    t.is(all.length, 1500)
    t.deepEqual(all[6], { _id: 7, name: 'item 7', qty: null })
    t.deepEqual(Object.keys(all[0]!), ['_id', 'name', 'qty'])
    const typed = await scratch.db((db) => db.collection('plain').findOne({ _id: 8 }, { promoteValues: false }))
    t.true(typed!._id instanceof Long && typed!.qty instanceof Long, 'SQLite INTEGER is a 64-bit integer: Long')
  })

  test('a composite target key becomes an _id document, in key order; validation looks documents up by it', async (t) => {
    const dir = tempDir()
    const file = join(dir, 'lines.db')
    exec(file, `CREATE TABLE lines (order_id INT NOT NULL, line INT NOT NULL, qty INT, PRIMARY KEY (order_id, line));
      WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < 599) INSERT INTO lines SELECT n / 4, n % 4, n FROM s`)
    const result = await runPipeline(
      testSettings(dir, { source: `sqlite:${file}`, target: scratch.url, sourceTable: 'lines', validate: 'checksum', strategy: 'parallel', numWorkers: 2, chunkSize: 150, batchSize: 100 }),
    )
    t.is(result.status, 'SUCCESS', result.error?.message)
    const doc = await scratch.db((db) => db.collection('lines').findOne({ _id: { order_id: 3, line: 2 } }, { promoteValues: false }))
    t.deepEqual(Object.keys(doc!._id as object), ['order_id', 'line'])
    t.true((doc!._id as { order_id: unknown }).order_id instanceof Int32, 'INT is a 32-bit integer: Int32')
    t.is(Number(doc!.qty), 14)
  })

  test('an upsert sets only the fields the rows carry; a rerun finds every document and changes nothing else', async (t) => {
    const dir = tempDir()
    await scratch.db((db) => db.collection('kept').insertMany(range(1, 100).map((id) => ({ _id: id, name: `old ${id}`, note: `kept ${id}` }))))
    const settings = testSettings(dir, { source: itemsDb(join(dir, 's.db'), range(1, 300)), target: scratch.url, sourceTable: 'items', targetTable: 'kept', writeMode: 'upsert', validate: 'checksum', batchSize: 64 })
    for (const run of [1, 2]) {
      const result = await runPipeline(settings)
      t.is(result.status, 'SUCCESS', `run ${run}: ${result.error?.message}`)
    }
    const all = await docs('kept')
    t.is(all.length, 300)
    t.deepEqual(all[4], { _id: 5, name: 'item 5', note: 'kept 5', qty: 5 })
    t.deepEqual(all[200], { _id: 201, name: 'item 201', qty: 1 })
  })

  test('refused documents are set aside one by one; the rest of their batches land once, and documents already there stay as they were', async (t) => {
    const dir = tempDir()
    // Every 10th key is taken already: an insert of it is a duplicate key.
    await scratch.db((db) => db.collection('dups').insertMany(range(1, 50).map((i) => ({ _id: i * 10, name: 'theirs', qty: -1 }))))
    const result = await runPipeline(
      testSettings(dir, { source: itemsDb(join(dir, 's.db'), range(1, 500)), target: scratch.url, sourceTable: 'items', targetTable: 'dups', writeMode: 'insert', onRejectedRow: 'skip', maxRejectedRows: 50, batchSize: 100, validate: 'count', targetWhere: '{"name": {"$ne": "theirs"}}' }),
    )
    t.is(result.status, 'SUCCESS_WITH_REJECTS', result.error?.message)
    t.is(result.stats.failed, 50)
    t.is(result.stats.migrated, 450)
    const all = await docs('dups')
    t.is(all.length, 500)
    t.deepEqual(all.filter((d) => d.name === 'theirs').map((d) => d._id), range(1, 50).map((i) => i * 10))
    t.true(all.filter((d) => d.name !== 'theirs').every((d) => d.name === `item ${String(d._id)}`))
  })

  test('a unique index on another field refuses the document that breaks it, in upserts too', async (t) => {
    const dir = tempDir()
    await scratch.db((db) => db.collection('uniq').createIndex({ name: 1 }, { unique: true }))
    await scratch.db((db) => db.collection('uniq').insertOne({ _id: 1000, name: 'item 7' }))
    const result = await runPipeline(
      testSettings(dir, { source: itemsDb(join(dir, 's.db'), range(1, 40)), target: scratch.url, sourceTable: 'items', targetTable: 'uniq', onRejectedRow: 'skip', batchSize: 16, validate: false }),
    )
    t.is(result.status, 'REJECTED_ROWS')
    t.is(result.stats.failed, 1)
    t.is(await scratch.db((db) => db.collection('uniq').countDocuments()), 40)
  })

  test('validation names target documents no source row accounts for', async (t) => {
    const dir = tempDir()
    const settings = testSettings(dir, { source: itemsDb(join(dir, 's.db'), range(1, 50)), target: scratch.url, sourceTable: 'items', targetTable: 'extra', validate: 'checksum' })
    t.is((await runPipeline(settings)).status, 'SUCCESS')
    await scratch.db((db) => db.collection('extra').insertOne({ _id: 777, name: 'stray' }))
    const result = await runPipeline(settings)
    t.is(result.status, 'VALIDATION_FAILED')
    t.deepEqual(result.validation?.extraKeys, ['777'])
  })

  test('writeMode truncate empties the collection, recreate drops it; targetWhere is a JSON query', async (t) => {
    const dir = tempDir()
    await scratch.db((db) => db.collection('modes').insertMany([{ _id: 'x', stale: true }, { _id: 'y', stale: true }]))
    const base = { source: itemsDb(join(dir, 's.db'), range(1, 30)), target: scratch.url, sourceTable: 'items', targetTable: 'modes' } as const
    t.is((await runPipeline(testSettings(dir, { ...base, writeMode: 'truncate' }))).status, 'SUCCESS')
    t.is((await docs('modes')).length, 30)
    t.is((await runPipeline(testSettings(dir, { ...base, writeMode: 'recreate', targetWhere: '{"qty": {"$gte": 10}}', validate: 'count', where: 'qty >= 10' }))).status, 'SUCCESS')
    t.is((await docs('modes')).length, 18, 'qty from 10 to 30, less the NULLs of 14, 21 and 28')
  })

  test('settings a document cannot honour stop the run before it writes: _id beside another key, a dotted field, Decimal128 on FerretDB', async (t) => {
    const dir = tempDir()
    const source = itemsDb(join(dir, 's.db'), range(1, 5))
    const withId = await runPipeline(testSettings(dir, { source, target: scratch.url, sourceTable: 'items', targetTable: 'bad1', transform: (r) => ({ ...r, _id: 1 }) }))
    t.regex(withId.error?.message ?? '', /rows carry `_id` but the target key is \(`id`\)/)
    const dotted = await runPipeline(testSettings(dir, { source, target: scratch.url, sourceTable: 'items', targetTable: 'bad2', transform: ({ qty, ...r }: Row) => ({ ...r, 'q.ty': qty }) }))
    t.regex(dotted.error?.message ?? '', /column `q\.ty` cannot be a MongoDB field name/)
    const decimal = await runPipeline(testSettings(dir, { source, target: `${scratch.url}?decimals=decimal128`, sourceTable: 'items', targetTable: 'bad3' }))
    t.regex(decimal.error?.message ?? '', /FerretDB, which has no Decimal128; set decimals=string/)
    t.is(await scratch.db((db) => db.listCollections({ name: /^bad/ }).toArray()).then((c) => c.length), 0)
  })

  test('timestamps finer than a millisecond are refused by default and cut with subMillisecond=truncate; NaN is refused on FerretDB', async (t) => {
    const dir = tempDir()
    const file = join(dir, 'times.db')
    exec(file, `CREATE TABLE times (id INTEGER PRIMARY KEY, at TIMESTAMP, f REAL);
      INSERT INTO times VALUES (1, '2024-01-02 03:04:05.123', 1.5), (2, '2024-01-02 03:04:05.123456', 2.5), (3, '1969-12-31 23:59:59.9999', 3.5)`)
    const base = { source: `sqlite:${file}`, sourceTable: 'times', onRejectedRow: 'skip', validate: false } as const
    const refused = await runPipeline(testSettings(join(dir, 'a'), { ...base, target: scratch.url, targetTable: 'refused' }))
    t.is(refused.status, 'REJECTED_ROWS')
    t.deepEqual((await docs('refused')).map((d) => d._id), [1])
    const cut = await runPipeline(testSettings(join(dir, 'b'), { ...base, target: `${scratch.url}?subMillisecond=truncate`, targetTable: 'cut' }))
    t.is(cut.status, 'SUCCESS', cut.error?.message)
    t.deepEqual((await docs('cut')).map((d) => (d.at as Date).toISOString()), ['2024-01-02T03:04:05.123Z', '2024-01-02T03:04:05.123Z', '1969-12-31T23:59:59.999Z'])
    await withSinkAt(scratch.url, async (sink) => {
      const target = { table: 'nan', columns: [{ name: 'id', nativeType: 'int', type: 'integer' as const, nullable: false }, { name: 'f', nativeType: 'double', type: 'float' as const, nullable: true }], key: ['id'] }
      const err = await t.throwsAsync(sink.write(target, [{ id: 1, f: Number.NaN }], 'insert'))
      t.regex(err!.message, /column `f` of the row with key 1 cannot be written exactly: NaN/)
      t.is(sink.classify(err), 'rejected')
    })
  })
}
