// The Elasticsearch sink: the index it creates, inserts and upserts through `_bulk`, documents the
// bulk refuses as refused rows (no split), and refresh switched off for a load and put back on
// every way out, a killed load's included.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { openSink } from '../src/engines/registry.js'
import { runPipeline } from '../src/run.js'
import type { Sink, WriteTarget } from '../src/sink.js'
import type { Row, TableSchema } from '../src/types.js'
import { esClient, esUrl, indexPrefix, requireElasticsearch } from './elasticsearch.js'
import { itemsDb, range, tempDir, testSettings } from './helpers.js'

const prefix = indexPrefix('sink')

const schema = (table: string): TableSchema => ({
  table,
  primaryKey: ['id'],
  uniqueKeys: [['id']],
  columns: [
    { name: 'id', nativeType: 'bigint', type: 'bigint', nullable: false },
    { name: 'name', nativeType: 'varchar(40)', type: 'text', nullable: true },
    { name: 'doc', nativeType: 'jsonb', type: 'json', nullable: true },
    { name: 'at', nativeType: 'timestamptz', type: 'timestamptz', nullable: true },
  ],
})

async function withSink<T>(use: (sink: Sink) => Promise<T>): Promise<T> {
  const sink = await openSink(esUrl)
  try {
    return await use(sink)
  } finally {
    await sink.close()
  }
}

if (await requireElasticsearch(prefix)) {
  const client = esClient()
  test.after.always(() => client.close())
  const source = (index: string, id: string) => client.get({ index, id }).then((d) => d._source)

  test('an index ferry creates has a strict mapping from the column types, the columns recorded in `_meta`, no coercion', async (t) => {
    const index = `${prefix}_made`
    await withSink((sink) => sink.prepare({ table: index, schema: schema(index), mode: 'recreate' }))
    const mapping = (await client.indices.getMapping({ index }))[index]!.mappings
    t.is(mapping.dynamic, 'strict')
    t.deepEqual(mapping.properties, {
      id: { type: 'long' },
      name: { type: 'keyword' },
      doc: { type: 'object', enabled: false },
      at: { type: 'date' },
    })
    t.deepEqual((mapping._meta as { ferry: { key: string[] } }).ferry.key, ['id'])
    const settings = await client.indices.getSettings({ index, flat_settings: true })
    t.is(settings[index]!.settings!['index.mapping.coerce' as never], 'false')
  })

  test('an insert of a taken _id and a value the mapping refuses are refused rows of their own; the batch is written without them', async (t) => {
    const index = `${prefix}_refuse`
    await withSink(async (sink) => {
      const made = await sink.prepare({ table: index, schema: schema(index), mode: 'recreate' })
      const target: WriteTarget = { table: index, columns: made.columns, key: ['id'] }
      await sink.write(target, [{ id: 1, name: 'one', doc: null, at: null }], 'insert')
      const result = await sink.write(target, [
        { id: 1, name: 'again', doc: null, at: null },
        { id: 2, name: 'two', doc: { a: 1 }, at: '2020-01-01T00:00:00Z' },
        { id: 3, name: 'three', doc: null, at: '12020-01-01T00:00:00Z' },
      ], 'insert')
      t.deepEqual(result?.rejected.map((r) => r.index), [0, 2])
      t.regex(String(result?.rejected[0]?.error), /refused the document of the row with key 1: .*document already exists.*version_conflict_engine_exception/)
      t.regex(String(result?.rejected[1]?.error), /key 3: failed to parse field \[at\] of type \[date\]/)
      t.is(sink.classify(result!.rejected[0]!.error), 'rejected')
      t.is(await sink.count(index), 2)
      t.like(await source(index, '1'), { name: 'one' })
    })
  })

  test('upserts set only the columns the rows carry; a JSON column is replaced, not merged into the stored object', async (t) => {
    const index = `${prefix}_upsert`
    await withSink(async (sink) => {
      const made = await sink.prepare({ table: index, schema: schema(index), mode: 'recreate' })
      await sink.write({ table: index, columns: made.columns, key: ['id'] }, [{ id: 1, name: 'kept', doc: { a: 1, b: { c: 2 } }, at: '2020-01-01T00:00:00.123456Z' }], 'upsert')
      const partial = { table: index, columns: made.columns.filter((c) => c.name === 'id' || c.name === 'doc'), key: ['id'] }
      await sink.write(partial, [{ id: 1, doc: { b: { d: 3 } } }, { id: 2, doc: [1, 2] }], 'upsert')
      t.deepEqual(await source(index, '1'), { id: 1, name: 'kept', doc: { b: { d: 3 } }, at: '2020-01-01T00:00:00.123456Z' })
      t.deepEqual(await source(index, '2'), { id: 2, doc: [1, 2] })
      const found = await sink.lookup({ table: index, columns: made.columns, key: ['id'] }, [[1], [2], [3]])
      t.deepEqual(found, [
        { id: 1, name: 'kept', doc: { b: { d: 3 } }, at: '2020-01-01T00:00:00.123456Z' },
        { id: 2, name: null, doc: [1, 2], at: null },
      ])
    })
  })

  test('a load runs with refresh off and puts the index’s own interval back; a killed load’s is put back by the next', async (t) => {
    const index = `${prefix}_refresh`
    const interval = async () => (await client.indices.getSettings({ index, flat_settings: true }))[index]!.settings!['index.refresh_interval' as never]
    const meta = async () => (await client.indices.getMapping({ index }))[index]!.mappings._meta
    await withSink((sink) => sink.prepare({ table: index, schema: schema(index), mode: 'recreate' }))
    await client.indices.putSettings({ index, settings: { index: { refresh_interval: '7s' } } })
    // A load killed before it could restore anything: only its marker in `_meta` says what was.
    await withSink((sink) => sink.loadSettings!(index))
    t.is(await interval(), '-1')
    t.deepEqual((await meta())?.ferry_load, { refresh_interval: '7s' })
    await withSink(async (sink) => {
      const restore = await sink.loadSettings!(index)
      t.is(await interval(), '-1')
      await restore()
    })
    t.is(await interval(), '7s')
    t.is((await meta())?.ferry_load, undefined)
    t.truthy((await meta())?.ferry, 'the schema record stays')
  })

  test('a run that fails halfway still puts refresh back, and the rows it set aside are named', async (t) => {
    const dir = tempDir()
    const index = `${prefix}_fail`
    const result = await runPipeline(
      testSettings(dir, {
        source: itemsDb(join(dir, 'items.db'), range(1, 300)),
        target: esUrl,
        sourceTable: 'items',
        targetTable: index,
        // Infinity has no JSON form: rows past 250 are refused, and the run stops past the limit.
        transform: (row: Row) => ({ ...row, qty: Number(row.id) > 250 ? Number.POSITIVE_INFINITY : row.qty === null ? null : Number(row.qty) + 0.5 }),
        onRejectedRow: 'skip',
        maxRejectedRows: 10,
        batchSize: 40,
        validate: 'checksum',
      }),
    )
    t.is(result.status, 'FAILED')
    t.regex(result.error?.message ?? '', /refused 11 rows, more than `maxRejectedRows` allows/)
    const settings = await client.indices.getSettings({ index, flat_settings: true })
    t.is(settings[index]!.settings!['index.refresh_interval' as never], undefined, 'refresh is back to the default')
    const file = result.tables[0]!.rejectedRowsFiles![0]!
    const rejected = readFileSync(file, 'utf8').trim().split('\n')
    t.regex(rejected[0]!, /column `qty`: Infinity has no JSON form/)
    t.is((await client.count({ index })).count, 250, 'every row before them is there and searchable')
  })
}
