// kill -9 and resume with an Elasticsearch sink and an Elasticsearch source, as
// test/kill-keys.test.ts does for the SQL engines: crash points halfway through a bulk (half of its
// documents are in) and halfway through a checkpoint write, every run in insert mode (`create`),
// where a document written twice is a refused row, not a silent upsert. The killed load leaves
// refresh off; the resumed one puts it back.
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { openSink } from '../src/engines/registry.js'
import { esClient, esUrl, indexPrefix, requireElasticsearch } from './elasticsearch.js'
import { exec, query, tempDir } from './helpers.js'
import { finalStatus, type Kill, killAndResume } from './kill-helpers.js'

const prefix = indexPrefix('kill')
const kills: readonly Kill[] = [{ fault: 'sink-write:9' }, { fault: 'checkpoint-write:5' }]
const small = { BATCH_SIZE: '150', CHUNK_SIZE: '1000', CHECKPOINT_INTERVAL: '600' }
const rows = 3000

async function resumedExactly(t: ExecutionContext, env: Record<string, string>): Promise<void> {
  const last = await killAndResume(t, { ...small, ...env }, kills)
  t.regex(last.output, new RegExp(`validation \\(checksum\\): source ${rows}, expected ${rows}, target ${rows}: passed`))
  t.is(finalStatus(t, env.WORK_DIR!), 'SUCCESS')
}

if (await requireElasticsearch(prefix)) {
  const client = esClient()
  test.after.always(() => client.close())

  for (const strategy of ['chunked', 'parallel'] as const) {
    test(`sqlite → elasticsearch, ${strategy}: rows move exactly through two kill -9 (one halfway through a bulk) and a resume, refresh put back`, async (t) => {
      const dir = tempDir()
      const file = join(dir, 'items.db')
      // Keys scattered over the range, so that partitions and batches do not line up with them.
      exec(
        file,
        `CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INT);
         WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < ${rows - 1})
         INSERT INTO items SELECT (n * 7919) % 100003, 'item ' || n, n % 100 FROM s`,
      )
      const index = `${prefix}_items_${strategy}`
      await resumedExactly(t, { SOURCE_URL: `sqlite:${file}`, TARGET_URL: esUrl, SOURCE_TABLE: 'items', TARGET_TABLE: index, STRATEGY: strategy, WORK_DIR: dir })
      const upper = await client.count({ index, query: { prefix: { 'name.keyword': 'ITEM ' } } })
      t.is(upper.count, rows)
      const settings = await client.indices.getSettings({ index, flat_settings: true })
      t.is(settings[index]!.settings!['index.refresh_interval' as never], undefined)
      t.is((await client.indices.getMapping({ index }))[index]!.mappings._meta?.ferry_load, undefined)
    })

    test(`elasticsearch → sqlite, ${strategy}: key ranges read in points in time move exactly through two kill -9 and a resume`, async (t) => {
      const dir = tempDir()
      const index = `${prefix}_source_${strategy}`
      const sink = await openSink(esUrl)
      try {
        const columns = [
          { name: 'id', nativeType: 'bigint', type: 'bigint', nullable: false },
          { name: 'name', nativeType: 'text', type: 'text', nullable: false },
          { name: 'qty', nativeType: 'integer', type: 'integer', nullable: true },
        ] as const
        const made = await sink.prepare({ table: index, schema: { table: index, columns, primaryKey: ['id'], uniqueKeys: [['id']] }, mode: 'recreate' })
        const docs = Array.from({ length: rows }, (_, n) => ({ id: 2 ** 53 + ((n * 7919) % 100003), name: `item ${n}`, qty: n % 100 }))
        await sink.write({ table: index, columns: made.columns, key: ['id'] }, docs.map((d) => ({ ...d, id: BigInt(2 ** 53) + BigInt(d.id - 2 ** 53) })), 'insert')
      } finally {
        await sink.close()
      }
      const target = join(dir, 'target.db')
      await resumedExactly(t, { SOURCE_URL: esUrl, TARGET_URL: `sqlite:${target}`, SOURCE_TABLE: index, TARGET_TABLE: 'items_copy', STRATEGY: strategy, WORK_DIR: dir })
      const [counts] = query<{ n: number; distinct: number; upper: number; big: number }>(
        target,
        `SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS "distinct", SUM(name GLOB 'ITEM [0-9]*') AS upper, SUM(id >= 9007199254740992) AS big FROM items_copy`,
      )
      t.deepEqual(counts, { n: rows, distinct: rows, upper: rows, big: rows })
    })
  }
}
