import test from 'ava'
import { tempDir } from './helpers.js'
import { finalStatus, type Kill, killAndResume, testDb } from './kill-helpers.js'
import { dropNamespaces, requireServers } from './servers.js'

const rows = 60_000

// Halfway through the 23rd raw COPY of the first run (mid-transaction), then halfway through the
// 4th checkpoint write of the resumed run, which replays its lease over rows the first run may
// have committed past its checkpoint. `insert` mode: a row written twice would be a duplicate key.
const kills: readonly Kill[] = [{ fault: 'sink-write:23' }, { fault: 'checkpoint-write:4' }]

if (await requireServers('postgres')) {
  test.after.always(dropNamespaces)

  for (const strategy of ['streaming', 'parallel'] as const) {
    test(`postgres → postgres raw passthrough, ${strategy}: two kill -9 and a resume leave a target equal to the source`, async (t) => {
      const dir = tempDir()
      const db = await testDb('postgres', dir, `passthrough_${strategy}`)
      await db.sql(
        'CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, qty int, note text)',
        // Gaps in the keys, and values COPY escapes.
        `INSERT INTO items SELECT n * 3 + (CASE WHEN n > 40000 THEN 1000000 ELSE 0 END), 'item ' || n, NULLIF(n % 100, 7), E'tab\\there\\nline ' || n FROM generate_series(1, ${rows}) n`,
      )
      const env = { SOURCE_URL: db.url, TARGET_URL: db.url, TRANSFORM: 'none', STRATEGY: strategy, BATCH_SIZE: '500', CHUNK_SIZE: '9000', CHECKPOINT_INTERVAL: '2000', WORK_DIR: dir }
      const last = await killAndResume(t, env, kills)
      t.regex(last.output, /path: raw passthrough/)
      t.regex(last.output, new RegExp(`validation \\(checksum\\): source ${rows}, expected ${rows}, target ${rows}: passed`))
      const [diff] = await db.sql(
        'SELECT (SELECT count(*) FROM items_copy)::int AS n, (SELECT count(*) FROM (SELECT * FROM items EXCEPT SELECT * FROM items_copy) d)::int AS missing, (SELECT count(*) FROM (SELECT * FROM items_copy EXCEPT SELECT * FROM items) d)::int AS extra',
      )
      t.deepEqual(diff, { n: rows, missing: 0, extra: 0 })
      t.is(finalStatus(t, dir), 'SUCCESS')
    })
  }
}
