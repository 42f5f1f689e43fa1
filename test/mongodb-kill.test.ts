// kill -9 and resume with a MongoDB sink and a MongoDB source (FerretDB), as test/kill-keys.test.ts
// does for the SQL engines: crash points halfway through a batch write (half of an unordered
// insert is in) and halfway through a checkpoint write; every run in insert mode, where a
// document written twice is a duplicate key, not a silent upsert. Small tables: FerretDB sorts every
// read in memory and updates by an _id it cannot find through its index (a document, as a composite
// key makes, a date, binary) by reading the whole collection, so the sink's key is an integer here
// (composite keys: test/mongodb-sink.test.ts).
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { ObjectId } from 'mongodb'
import { exec, query, tempDir } from './helpers.js'
import { finalStatus, type Kill, killAndResume } from './kill-helpers.js'
import { mongoScratch } from './mongodb.js'
import { dropNamespaces, requireServers } from './servers.js'

const kills: readonly Kill[] = [{ fault: 'sink-write:9' }, { fault: 'checkpoint-write:5' }]
const small = { BATCH_SIZE: '150', CHUNK_SIZE: '1000', CHECKPOINT_INTERVAL: '600' }
const rows = 3000

async function resumedExactly(t: ExecutionContext, env: Record<string, string>): Promise<void> {
  const last = await killAndResume(t, { ...small, ...env }, kills)
  t.regex(last.output, new RegExp(`validation \\(checksum\\): source ${rows}, expected ${rows}, target ${rows}: passed`))
  t.is(finalStatus(t, env.WORK_DIR!), 'SUCCESS')
}

if (await requireServers('mongodb')) {
  const scratch = await mongoScratch('kill')
  test.after.always(dropNamespaces)

  for (const strategy of ['chunked', 'parallel'] as const) {
    test(`sqlite → mongodb, ${strategy}: rows move exactly through two kill -9 (one halfway through an unordered insert) and a resume`, async (t) => {
      const dir = tempDir()
      const file = join(dir, 'items.db')
      // Keys scattered over the range, so that partitions and batches do not line up with them.
      exec(
        file,
        `CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INT);
         WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < ${rows - 1})
         INSERT INTO items SELECT (n * 7919) % 100003, 'item ' || n, n % 100 FROM s`,
      )
      const table = `items_${strategy}`
      await resumedExactly(t, { SOURCE_URL: `sqlite:${file}`, TARGET_URL: scratch.url, SOURCE_TABLE: 'items', TARGET_TABLE: table, STRATEGY: strategy, WORK_DIR: dir })
      const [n, upper] = await scratch.db((db) =>
        Promise.all([db.collection(table).countDocuments(), db.collection(table).countDocuments({ name: { $regex: '^ITEM \\d+$' } })]),
      )
      t.deepEqual({ n, upper }, { n: rows, upper: rows })
    })

    test(`mongodb → sqlite, ${strategy}: mixed _id types (numbers, strings, ObjectIds) move exactly through two kill -9 and a resume`, async (t) => {
      const dir = tempDir()
      const table = `mixed_${strategy}`
      const id = (n: number) => (n % 3 === 0 ? n : n % 3 === 1 ? `k${String(n).padStart(5, '0')}` : new ObjectId(n.toString(16).padStart(24, '0')))
      await scratch.db((db) => db.collection(table).insertMany(Array.from({ length: rows }, (_, n) => ({ _id: id(n), name: `item ${n}`, qty: n % 100 }))))
      const target = join(dir, 'target.db')
      await resumedExactly(t, { SOURCE_URL: scratch.url, TARGET_URL: `sqlite:${target}`, SOURCE_TABLE: table, TARGET_TABLE: 'items_copy', STRATEGY: strategy, WORK_DIR: dir })
      const [counts] = query<{ n: number; distinct: number; upper: number }>(
        target,
        `SELECT COUNT(*) AS n, COUNT(DISTINCT _id) AS "distinct", SUM(name GLOB 'ITEM [0-9]*') AS upper FROM items_copy`,
      )
      t.deepEqual(counts, { n: rows, distinct: rows, upper: rows })
    })
  }
}
