// The MongoDB source on a real server (FerretDB, as scripts/mongo.sh builds it): schema inference,
// partitions and positions over mixed `_id` types in the server's own order, filters, keys.
import test from 'ava'
import { Binary, Double, Int32, Long, ObjectId, UUID } from 'mongodb'
import { toJsonValue } from '../src/engines/mongodb/mongodb-values.js'
import { ConfigError, KeyError, MissingTableError } from '../src/errors.js'
import type { Json } from '../src/types.js'
import { mongoScratch, pages, readPartitions, withSource } from './mongodb.js'
import { dropNamespaces, requireServers } from './servers.js'

const id = (v: unknown) => JSON.stringify(toJsonValue(v))

if (await requireServers('mongodb')) {
  const scratch = await mongoScratch('source')
  test.after.always(dropNamespaces)

  test('the schema is inferred from sampled documents: one BSON type per field maps to its logical type, a mix to JSON', async (t) => {
    await scratch.db(async (db) => {
      await db.collection('typed').insertMany([
        { _id: 1, i: new Int32(1), l: Long.fromNumber(2), d: new Double(1.5), s: 'a', b: true, at: new Date(0), o: new ObjectId(), bin: new Binary(Buffer.from([1])), u: new UUID(), doc: { a: 1 }, arr: [1], mixed: 1, n: null },
        { _id: 2, i: new Int32(2), l: new Int32(3), d: new Int32(2), s: 'b', mixed: 'x', extra: 5 },
      ])
      await db.collection('typed').createIndex({ s: 1 }, { unique: true })
    })
    const schema = await withSource(scratch.url, (s) => s.describe('typed'))
    const shape = Object.fromEntries(schema.columns.map((c) => [c.name, `${c.type} ${c.nativeType}${c.nullable ? '' : ' not null'}`]))
    t.deepEqual(shape, {
      _id: 'integer int not null',
      i: 'integer int',
      l: 'bigint long',
      d: 'float double',
      s: 'text string',
      b: 'boolean bool',
      at: 'timestamptz date',
      o: 'text objectId',
      bin: 'bytes binData',
      u: 'uuid uuid',
      doc: 'json object',
      arr: 'json array',
      mixed: 'json mixed',
      n: 'text null',
      extra: 'integer int',
    })
    t.deepEqual(schema.primaryKey, ['_id'])
    t.deepEqual(schema.uniqueKeys, [['_id'], ['s']])
  })

  // Numbers of three BSON types, strings, ObjectIds, dates, binaries and booleans as `_id`s.
  const mixedIds: unknown[] = [
    ...Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? new Double(i + 0.5) : i % 3 === 1 ? Long.fromNumber(-i) : new Int32(i))),
    ...Array.from({ length: 25 }, (_, i) => `key ${String(i).padStart(2, '0')}`),
    ...Array.from({ length: 15 }, (_, i) => new ObjectId(i.toString(16).padStart(24, '0'))),
    ...Array.from({ length: 10 }, (_, i) => new Date(Date.UTC(2000, 0, i + 1))),
    new Binary(Buffer.from([1, 2])),
    true,
    false,
  ]

  const serverOrder = async (table: string) =>
    scratch.db(async (db) => (await db.collection(table).find({}, { projection: { _id: 1 } }).sort({ _id: 1 }).toArray()).map((d) => id(d._id)))

  test('mixed _id types: every document is read once, each partition in the server order, resumable at every page', async (t) => {
    await scratch.db((db) => db.collection('mixed').insertMany(mixedIds.map((_id, n) => ({ _id, n }))))
    const order = await serverOrder('mixed')
    await withSource(scratch.url, async (source) => {
      for (const every of [7, 30]) {
        const partitions = await source.partitions({ table: 'mixed', key: ['_id'] }, every)
        const parts = await readPartitions(source, { table: 'mixed', key: ['_id'] }, partitions, 4)
        const seen = parts.flat().map((r) => id(r._id))
        t.is(seen.length, mixedIds.length, `every ${every}: each document once`)
        t.deepEqual([...seen].sort(), [...order].sort())
        for (const part of parts) {
          const positions = part.map((r) => order.indexOf(id(r._id)))
          t.deepEqual(positions, [...positions].sort((a, b) => a - b), 'a partition reads in the server order')
        }
        // A resume from each page's position reads exactly the rest of the partition.
        for (const partition of partitions) {
          const all = await pages(source, { table: 'mixed', key: ['_id'], partition, pageSize: 3 })
          const rows = all.flatMap((p) => p.rows.map((r) => id(r._id)))
          for (const [i, page] of all.entries()) {
            const rest = (await pages(source, { table: 'mixed', key: ['_id'], partition, pageSize: 5, after: page.position })).flatMap((p) => p.rows.map((r) => id(r._id)))
            t.deepEqual(rest, rows.slice((i + 1) * 3), `resume after page ${i} of ${JSON.stringify(partition)}`)
          }
        }
      }
      t.deepEqual(await source.partitions({ table: 'mixed', key: ['_id'] }, 1000), [{}], 'fewer rows than a partition: one partition')
    })
  })

  test('positions and partitions are JSON that keeps BSON types exactly (Long, Double, ObjectId, dates)', async (t) => {
    await scratch.db((db) => db.collection('exact').insertMany(mixedIds.map((_id, n) => ({ _id, n }))))
    await withSource(scratch.url, async (source) => {
      const partitions = await source.partitions({ table: 'exact', key: ['_id'] }, 7)
      const text = JSON.stringify(partitions)
      t.regex(text, /\$numberLong|\$numberInt|\$numberDouble/)
      t.regex(text, /\$oid/)
      const copy = JSON.parse(text) as Json[]
      const a = await readPartitions(source, { table: 'exact', key: ['_id'] }, partitions)
      const b = await readPartitions(source, { table: 'exact', key: ['_id'] }, copy)
      t.deepEqual(a, b)
    })
  })

  test('where is a query document, or its JSON text; SQL text is refused naming the setting', async (t) => {
    await scratch.db((db) => db.collection('filtered').insertMany(mixedIds.map((_id, n) => ({ _id, n }))))
    await withSource(scratch.url, async (source) => {
      t.is(await source.count('filtered', { n: { $lt: 10 } }), 10)
      t.is(await source.count('filtered', '{"n": {"$gte": 80}}'), mixedIds.length - 80)
      const read = { table: 'filtered', key: ['_id'], filter: { n: { $lt: 50 } } }
      const rows = (await readPartitions(source, read, await source.partitions(read, 9))).flat()
      t.deepEqual(rows.map((r) => r.n).sort((a, b) => Number(a) - Number(b)), Array.from({ length: 50 }, (_, i) => i))
      const err = await t.throwsAsync(source.count('filtered', 'n < 10'), { instanceOf: ConfigError })
      t.regex(err!.message, /setting `where`: the mongodb source takes a query document/)
    })
  })

  test('a field with a unique index is a key: partitions, NULL check and reads go by it', async (t) => {
    await scratch.db(async (db) => {
      await db.collection('coded').insertMany(Array.from({ length: 30 }, (_, i) => ({ _id: new ObjectId(), code: `c${String(30 - i).padStart(2, '0')}`, i })))
      await db.collection('coded').createIndex({ code: 1 }, { unique: true })
    })
    await withSource(scratch.url, async (source) => {
      t.deepEqual((await source.describe('coded')).uniqueKeys, [['_id'], ['code']])
      const read = { table: 'coded', key: ['code'] }
      const rows = (await readPartitions(source, read, await source.partitions(read, 8))).flat()
      t.deepEqual(rows.map((r) => r.code), Array.from({ length: 30 }, (_, i) => `c${String(i + 1).padStart(2, '0')}`))
      t.false(await source.hasNullKey(read, ['code']))
      await scratch.db((db) => db.collection('coded').insertOne({ _id: new ObjectId(), code: null }))
      t.true(await source.hasNullKey(read, ['code']))
      await t.throwsAsync(source.partitions({ table: 'coded', key: ['code', 'i'] }, 8), { instanceOf: KeyError, message: /reads by one key field/ })
    })
  })

  test('a document with a field the sample did not show stops the read, naming the document and the field', async (t) => {
    await scratch.db((db) => db.collection('grown').insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i, a: i, ...(i === 9 && { late: 'x' }) }))))
    const url = `${scratch.url}?sampleSize=4`
    await withSource(url, async (source) => {
      t.deepEqual((await source.describe('grown')).columns.map((c) => c.name), ['_id', 'a'])
      const err = await t.throwsAsync(pages(source, { table: 'grown', key: ['_id'], partition: {}, pageSize: 5 }), { instanceOf: ConfigError })
      t.regex(err!.message, /document with _id 9 has field `late`.*raise `sampleSize`/)
    })
    await withSource(`${scratch.url}?sampleSize=0`, async (source) => {
      t.deepEqual((await source.describe('grown')).columns.map((c) => c.name), ['_id', 'a', 'late'])
    })
  })

  test('a missing collection is a MissingTableError; a network failure is transient, a bad setting fatal', async (t) => {
    await withSource(scratch.url, async (source) => {
      await t.throwsAsync(source.describe('nope'), { instanceOf: MissingTableError, message: /table `nope` does not exist in mongodb database/ })
      const classify = (source as unknown as { classify(err: unknown): string }).classify.bind(source)
      t.is(classify(Object.assign(new Error('closed'), { name: 'MongoNetworkError' })), 'transient')
      t.is(classify(Object.assign(new Error('cursor id not found'), { code: 43 })), 'transient')
      t.is(classify(new ConfigError('bad')), 'fatal')
    })
  })
}
