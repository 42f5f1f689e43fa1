// The Elasticsearch source on an index ferry did not make: columns from the mapping, reads in the
// order of `_id`, of a keyword and of a long key (beyond 2^53), key ranges as partitions, positions
// that resume exactly, `where` as query DSL, and documents it refuses to read, naming them.
import { join } from 'node:path'
import test from 'ava'
import { openSource } from '../src/engines/registry.js'
import { runPipeline } from '../src/run.js'
import type { Source } from '../src/source.js'
import type { Row } from '../src/types.js'
import { esClient, esUrl, indexPrefix, requireElasticsearch } from './elasticsearch.js'
import { query, tempDir, testSettings } from './helpers.js'
import { pages } from './mongodb.js'

const prefix = indexPrefix('src')
const foreign = `${prefix}_foreign`
const docs = 300
const big = 9007199254740993n

/** Document n: a keyword code in an order unlike `_id`'s, a long beyond 2^53, an object, an instant, bytes. */
function doc(n: number): string {
  const code = `c${String((n * 7919) % 1000).padStart(4, '0')}`
  return `{"code":"${code}","n":${big + BigInt(n * 2)},"price":${n / 4},"ok":${n % 2 === 0},"at":"2020-01-01T00:00:${String(n % 60).padStart(2, '0')}.123456Z","meta":{"a":${n},"b":["x",null]},"raw":"${Buffer.from([n % 256, 0]).toString('base64')}"}`
}

async function withSource<T>(use: (s: Source) => Promise<T>): Promise<T> {
  const source = await openSource(esUrl)
  try {
    return await use(source)
  } finally {
    await source.close()
  }
}

if (await requireElasticsearch(prefix)) {
  const client = esClient()
  test.after.always(() => client.close())
  test.before(async () => {
    await client.indices.create({
      index: foreign,
      mappings: {
        properties: {
          code: { type: 'keyword' },
          n: { type: 'long' },
          price: { type: 'double' },
          ok: { type: 'boolean' },
          at: { type: 'date' },
          meta: { properties: { a: { type: 'integer' } } },
          raw: { type: 'binary' },
        },
      },
    })
    const body = Array.from({ length: docs }, (_, n) => `{"index":{"_id":"d${String(n).padStart(3, '0')}"}}\n${doc(n)}\n`).join('')
    await client.bulk({ index: foreign, body: body as never, refresh: true })
  })

  test('an index ferry did not make reads as `_id` and its mapped fields, typed by the mapping', async (t) => {
    const schema = await withSource((s) => s.describe(foreign))
    t.deepEqual(
      schema.columns.map((c) => [c.name, c.type]),
      [['_id', 'text'], ['at', 'timestamptz'], ['code', 'text'], ['meta', 'json'], ['n', 'bigint'], ['ok', 'boolean'], ['price', 'float'], ['raw', 'bytes']],
    )
    t.deepEqual(schema.primaryKey, ['_id'])
  })

  test('reads by `_id` hand every document over once, in `_id` order, longs beyond 2^53 exact', async (t) => {
    const rows = await withSource(async (s) => (await pages(s, { table: foreign, key: ['_id'], partition: {}, pageSize: 70 })).flatMap((p) => p.rows))
    t.is(rows.length, docs)
    t.deepEqual(rows.map((r) => r._id), Array.from({ length: docs }, (_, n) => `d${String(n).padStart(3, '0')}`))
    t.like(rows[1], { n: big + 2n, price: 0.25, ok: false, at: '2020-01-01T00:00:01.123456Z', meta: { a: 1, b: ['x', null] } })
    t.deepEqual(rows[1]!.raw, Buffer.from([1, 0]))
  })

  for (const key of ['code', 'n'] as const) {
    test(`key ranges of a ${key === 'n' ? 'long' : 'keyword'} key cover every document once, and a read resumes exactly from a page's position`, async (t) => {
      await withSource(async (s) => {
        const read = { table: foreign, key: [key] }
        const partitions = await s.partitions(read, 50)
        t.true(partitions.length >= 4 && partitions.length <= 8, JSON.stringify(partitions))
        const seen: Row[] = []
        for (const partition of partitions) seen.push(...(await pages(s, { ...read, partition, pageSize: 17 })).flatMap((p) => p.rows))
        t.is(seen.length, docs)
        t.is(new Set(seen.map((r) => String(r[key]))).size, docs)
        const whole = await pages(s, { ...read, partition: {}, pageSize: 40 })
        const rest = await pages(s, { ...read, partition: {}, pageSize: 40, after: whole[2]!.position })
        t.deepEqual(rest.flatMap((p) => p.rows), whole.slice(3).flatMap((p) => p.rows))
      })
    })
  }

  test('`where` is query DSL; a keyword key asserted unique moves in parallel into SQLite, checksums passing', async (t) => {
    const dir = tempDir()
    const result = await runPipeline(
      testSettings(dir, {
        source: esUrl,
        target: `sqlite:${join(dir, 'out.db')}`,
        sourceTable: foreign,
        targetTable: 'out',
        primaryKey: 'code',
        assertUniqueKey: true,
        where: { bool: { filter: [{ term: { ok: true } }, { range: { n: { gt: big + 100n } } }] } },
        transform: ({ _id, ...row }: Row) => ({ ...row, doc: _id }),
        strategy: 'parallel',
        chunkSize: 40,
        batchSize: 25,
        validate: 'checksum',
      }),
    )
    t.is(result.status, 'SUCCESS', result.error?.message ?? JSON.stringify(result.validation))
    // Even n above 50.
    t.is(result.stats.migrated, 124)
    const rows = query(join(dir, 'out.db'), `SELECT CAST(n AS TEXT) AS n, ok, code FROM out WHERE doc = 'd298'`)
    t.deepEqual(rows, [{ n: String(big + 596n), ok: 1, code: 'c0862' }])
  })

  test('a value the mapping does not promise (an array in a keyword field) and a field outside the mapping stop the read, naming the document', async (t) => {
    const odd = `${prefix}_odd`
    await client.indices.create({ index: odd, mappings: { dynamic: false, properties: { k: { type: 'keyword' } } } })
    await client.bulk({ index: odd, refresh: true, operations: [{ index: { _id: 'a' } }, { k: ['x', 'y'] }] })
    const read = (table: string) => withSource(async (s) => pages(s, { table, key: ['_id'], partition: {}, pageSize: 10 }))
    await t.throwsAsync(() => read(odd), { message: /field `k` of the document with _id "a" holds 2 values \(an array\)/ })
    await client.bulk({ index: odd, refresh: true, operations: [{ index: { _id: 'a' } }, { k: 'x', hidden: 1 }] })
    await t.throwsAsync(() => read(odd), { message: /the document with _id "a" has field `hidden`, which the index's mapping does not name/ })
  })
}
