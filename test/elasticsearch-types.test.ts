// Every logical type and its edge values (test/fixtures/types.ts) through Elasticsearch: written
// and read back exactly (`_source` keeps what ferry sends: 64-bit integers, 30-digit decimals,
// microseconds, 1 MiB of bytes), and SQLite and PostgreSQL → Elasticsearch → PostgreSQL with
// checksums both ways. Decimals go to a scaled_float only when it holds them exactly.
import { join } from 'node:path'
import test from 'ava'
import { openSink } from '../src/engines/registry.js'
import { runPipeline } from '../src/run.js'
import { compareRows, fixtureSchema, loadFixture, logicalShape, readAll } from './fixtures/types.js'
import { esClient, esUrl, indexPrefix, requireElasticsearch } from './elasticsearch.js'
import { runId } from './engines.js'
import { tempDir, testSettings } from './helpers.js'
import { dropNamespaces, requireServers, scratchUrl } from './servers.js'

const prefix = indexPrefix('types')

if ((await requireServers('postgres')) && (await requireElasticsearch(prefix))) {
  test.after.always(dropNamespaces)

  test('the type fixture comes back from Elasticsearch exactly as it was written, types, lengths and scales included', async (t) => {
    const index = `${prefix}_fixture`
    await loadFixture(esUrl, index)
    const { schema, rows } = await readAll(esUrl, index)
    t.deepEqual(logicalShape(schema), logicalShape(fixtureSchema(index)))
    compareRows(t, rows, schema, 'Elasticsearch')
    const client = esClient()
    try {
      const properties = (await client.indices.getMapping({ index }))[index]!.mappings.properties!
      t.like(properties, { amount: { type: 'keyword' }, ts: { type: 'date' }, doc: { type: 'object' }, blob: { type: 'binary' }, uid: { type: 'keyword' }, select: { type: 'text' } })
    } finally {
      await client.close()
    }
  })

  for (const from of ['sqlite', 'postgres'] as const) {
    test(`every logical type survives ${from} → Elasticsearch → PostgreSQL, checksums passing both ways`, async (t) => {
      const dir = tempDir()
      const first = from === 'sqlite' ? `sqlite:${join(dir, 'first.db')}` : await scratchUrl('postgres', runId('es_first'))
      const back = await scratchUrl('postgres', runId('es_back'))
      const index = `${prefix}_from_${from}`
      await loadFixture(first, 'types')
      const common = { writeMode: 'recreate', validate: 'checksum', batchSize: 2, chunkSize: 2 } as const
      const there = await runPipeline(testSettings(join(dir, 'there'), { ...common, source: first, target: esUrl, sourceTable: 'types', targetTable: index }))
      t.is(there.status, 'SUCCESS', there.error?.message ?? JSON.stringify(there.validation))
      const home = await runPipeline(testSettings(join(dir, 'back'), { ...common, strategy: 'parallel', source: esUrl, target: back, sourceTable: index, targetTable: 'types' }))
      t.is(home.status, 'SUCCESS', home.error?.message ?? JSON.stringify(home.validation))
      const { schema, rows } = await readAll(back, 'types')
      t.deepEqual(logicalShape(schema), logicalShape(fixtureSchema('types')))
      compareRows(t, rows, schema, `${from} → Elasticsearch → PostgreSQL`)
    })
  }

  test('a decimal goes to a scaled_float only when it holds every value exactly; a value with more digits is a refused row, never rounded', async (t) => {
    const index = `${prefix}_money`
    const sink = await openSink(esUrl)
    try {
      const columns = [
        { name: 'id', nativeType: 'integer', type: 'integer', nullable: false },
        { name: 'price', nativeType: 'numeric(10,2)', type: 'decimal', precision: 10, scale: 2, nullable: true },
        { name: 'whole', nativeType: 'numeric(18,0)', type: 'decimal', precision: 18, scale: 0, nullable: true },
        { name: 'wide', nativeType: 'numeric(16,2)', type: 'decimal', precision: 16, scale: 2, nullable: true },
      ] as const
      const made = await sink.prepare({ table: index, schema: { table: index, columns, primaryKey: ['id'], uniqueKeys: [['id']] }, mode: 'recreate' })
      t.deepEqual(['price', 'whole', 'wide'].map((c) => sink.nativeType!(made.columns.find((m) => m.name === c)!)), ['scaled_float (scaling_factor 100)', 'long', 'keyword'])
      const target = { table: index, columns: made.columns, key: ['id'] }
      const result = await sink.write(target, [
        { id: 1, price: '12345678.90', whole: '999999999999999999', wide: '12345678901234.56' },
        { id: 2, price: '0.125', whole: '1', wide: '0.10' },
        { id: 3, price: '-0.01', whole: '-5', wide: null },
      ], 'insert')
      t.deepEqual(result?.rejected.map((r) => r.index), [1])
      t.regex(String(result?.rejected[0]?.error), /column `price` of the row with key 2 cannot hold the value exactly: 0.125 has more than 2 digits after the point/)
      t.deepEqual(await sink.lookup(target, [[1], [3]]), [
        { id: 1, price: '12345678.90', whole: '999999999999999999', wide: '12345678901234.56' },
        { id: 3, price: '-0.01', whole: '-5', wide: null },
      ])
      const client = esClient()
      try {
        await client.indices.refresh({ index })
        const sum = await client.search({ index, size: 0, aggregations: { s: { sum: { field: 'price' } } } })
        t.is((sum.aggregations!.s as { value: number }).value, 12345678.89, 'the index holds the values exactly too')
      } finally {
        await client.close()
      }
    } finally {
      await sink.close()
    }
  })
}
