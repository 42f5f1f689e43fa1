import { join } from 'node:path'
import test from 'ava'
import { runPipeline } from '../src/run.js'
import { compose, rename, where } from '../transforms/compose.js'
import { exec, itemsDb, query, range, tempDir, testSettings } from './helpers.js'

test('a WHERE filter moves only the rows it selects, and validation counts under it', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  const result = await runPipeline(
    testSettings(dir, {
      source: itemsDb(join(dir, 'source.db'), range(1, 3000)),
      target: `sqlite:${target}`,
      sourceTable: 'items',
      where: 'qty >= 50',
      chunkSize: 500,
      validate: 'checksum',
      targetWhere: 'qty >= 50',
    }),
  )
  t.is(result.status, 'SUCCESS', result.error?.message)
  const expected = query<{ n: number }>(join(dir, 'source.db'), 'SELECT COUNT(*) AS n FROM items WHERE qty >= 50')[0]!.n
  t.is(result.stats.total, expected)
  t.is(query<{ n: number }>(target, 'SELECT COUNT(*) AS n FROM items')[0]!.n, expected)
  t.is(query<{ n: number }>(target, 'SELECT COUNT(*) AS n FROM items WHERE qty < 50 OR qty IS NULL')[0]!.n, 0)
  t.is(result.validation?.passed, true)
})

test('a bad WHERE filter is bad input naming the setting', async (t) => {
  const dir = tempDir()
  const result = await runPipeline(
    testSettings(dir, {
      source: itemsDb(join(dir, 'source.db'), range(1, 10)),
      target: `sqlite:${join(dir, 'target.db')}`,
      sourceTable: 'items',
      where: 'no_such_column = 1',
    }),
  )
  t.is(result.status, 'FAILED')
  t.is(result.error?.name, 'ConfigError')
  t.regex(result.error!.message, /setting `where` \(no_such_column = 1\) does not work on `items`: no such column/)
})

interface Item {
  id: number
  name: string
  qty: number | null
}

test('composed transforms rename, reshape and drop rows; dropped rows count as skipped', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  const result = await runPipeline(
    testSettings(dir, {
      source: itemsDb(join(dir, 'source.db'), range(1, 1000)),
      target: `sqlite:${target}`,
      sourceTable: 'items',
      targetTable: 'stock',
      targetKey: 'item_id',
      validate: 'checksum',
      transform: compose(
        where<Item>((r) => r.qty !== null),
        rename<Item, { id: string }>({ id: 'item_id' }),
        (r) => ({ ...r, name: String(r.name).toUpperCase(), in_stock: Number(r.qty) > 10 }),
      ),
    }),
  )
  t.is(result.status, 'SUCCESS', result.error?.message)
  const nulls = range(1, 1000).filter((id) => id % 7 === 0).length
  t.is(result.stats.skipped, nulls)
  t.is(result.stats.migrated, 1000 - nulls)
  const rows = query<{ item_id: number; name: string; in_stock: number }>(target, 'SELECT item_id, name, in_stock FROM stock ORDER BY item_id LIMIT 2')
  t.deepEqual(rows, [
    { item_id: 1, name: 'ITEM 1', in_stock: 0 },
    { item_id: 2, name: 'ITEM 2', in_stock: 0 },
  ])
  t.is(result.validation?.expectedCount, 1000 - nulls)
})

test('compose stops at the first step that drops the row', (t) => {
  let called = 0
  const f = compose(
    (n: number) => (n > 0 ? n : null),
    (n: number) => {
      called++
      return n * 2
    },
  )
  t.is(f(2), 4)
  t.is(f(-1), null)
  t.is(called, 1)
})

test('skipExisting leaves rows already in the target alone and counts them as skipped', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  exec(target, "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER); INSERT INTO items VALUES (10, 'mine', 1), (2000, 'mine too', 2)")
  const result = await runPipeline(
    testSettings(dir, {
      source: itemsDb(join(dir, 'source.db'), range(1, 3000)),
      target: `sqlite:${target}`,
      sourceTable: 'items',
      writeMode: 'insert',
      skipExisting: true,
      validate: false,
    }),
  )
  t.is(result.status, 'SUCCESS', result.error?.message)
  t.like(result.stats, { migrated: 2998, skipped: 2 })
  t.deepEqual(query(target, 'SELECT name FROM items WHERE id IN (10, 2000) ORDER BY id'), [{ name: 'mine' }, { name: 'mine too' }])
  t.is(query<{ n: number }>(target, 'SELECT COUNT(*) AS n FROM items')[0]!.n, 3000)
})
