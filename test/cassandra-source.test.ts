// The Cassandra source on a real node: token-range partitions that cover the ring once, reads
// resumed inside a wide partition (clustering DESC and ASC) that go on after the last row, filters,
// counts by token range, and keys other than the primary key refused.
import test from 'ava'
import type { Page } from '../src/source.js'
import type { Json, Row } from '../src/types.js'
import { cassandraScratch, cql, cqlMany, requireCassandra } from './cassandra.js'
import { withSource } from './mongodb.js'

/** Every page of a read. */
async function pages(read: AsyncIterable<Page>): Promise<Page[]> {
  const all: Page[] = []
  for await (const page of read) all.push(page)
  return all
}

const id = (r: Row) => `${String(r.p)}/${String(r.c1)}/${String(r.c2)}`

if (await requireCassandra()) {
  const { keyspace, url } = cassandraScratch('src')
  const total = 1200
  // 40 partitions of 30 rows: clustering by c1 downwards, then c2 upwards.
  test.serial.before(async () => {
    await cql(`CREATE TABLE ${keyspace}.wide (p int, c1 text, c2 bigint, v text, PRIMARY KEY ((p), c1, c2)) WITH CLUSTERING ORDER BY (c1 DESC, c2 ASC)`)
    const rows = Array.from({ length: total }, (_, n) => [Math.floor(n / 30), n % 30] as const)
    await cqlMany(`INSERT INTO ${keyspace}.wide (p, c1, c2, v) VALUES (?, ?, ?, ?)`, rows.map(([p, i]) => [p, `k${i % 3}`, BigInt(i), `v${p}-${i}`]))
  })
  const read = { table: 'wide', key: ['p', 'c1', 'c2'] }

  test('the schema: the primary key in key order, clustering columns, CQL types', async (t) => {
    await withSource(url, async (source) => {
      const schema = await source.describe('wide')
      t.deepEqual(schema.primaryKey, ['p', 'c1', 'c2'])
      t.deepEqual(schema.uniqueKeys, [['p', 'c1', 'c2']])
      t.deepEqual(schema.columns.map((c) => [c.name, c.nativeType, c.type, c.nullable]), [
        ['p', 'int', 'integer', false],
        ['c1', 'text', 'text', false],
        ['c2', 'bigint', 'bigint', false],
        ['v', 'text', 'text', true],
      ])
    })
  })

  test('partitions are token ranges that cover the ring: every row read once, in token then clustering order', async (t) => {
    await withSource(url, async (source) => {
      t.is(await source.count('wide'), total)
      const partitions = await source.partitions(read, 100)
      t.true(partitions.length >= 12, `${partitions.length} partitions`)
      const bounds = partitions.map((p) => p as { from: string; to: string })
      t.is(bounds[0]!.from, String(-(2n ** 63n)))
      t.is(bounds.at(-1)!.to, String(2n ** 63n - 1n))
      for (let i = 1; i < bounds.length; i++) t.is(bounds[i]!.from, bounds[i - 1]!.to, 'ranges meet without gap or overlap')
      const rows: Row[] = []
      for (const partition of partitions) for (const page of await pages(source.read({ ...read, partition, pageSize: 64 }))) rows.push(...page.rows)
      t.is(rows.length, total)
      t.is(new Set(rows.map(id)).size, total)
      // Within a partition: c1 downwards, then c2 upwards.
      const first = rows.filter((r) => r.p === rows[0]!.p).map((r) => `${String(r.c1)}:${String(r.c2)}`)
      t.deepEqual(first.slice(0, 3), ['k2:2', 'k2:5', 'k2:8'])
      t.is(first.at(-1), 'k0:27')
    })
  })

  test('a read resumed from any page position goes on after its last row, inside a wide partition too', async (t) => {
    await withSource(url, async (source) => {
      const whole = { ...read, partition: {}, pageSize: 7 }
      const all = await pages(source.read(whole))
      const rows = all.flatMap((p) => p.rows).map(id)
      t.is(rows.length, total)
      let done = 0
      for (const [i, page] of all.entries()) {
        if (i % 9 !== 4) continue
        const position = page.position as { t: string; k: Json[]; c: Json[] }
        t.is(position.k.length, 1)
        t.is(position.c.length, 2)
        const rest = (await pages(source.read({ ...whole, after: position }))).flatMap((p) => p.rows).map(id)
        t.deepEqual(rest, rows.slice((i + 1) * 7), `resumed after page ${i}`)
        done++
      }
      t.true(done > 10)
    })
  })

  test('a position whose partition was deleted meanwhile resumes with the partitions after it', async (t) => {
    await cql(`CREATE TABLE ${keyspace}.gone (p int, c int, PRIMARY KEY ((p), c))`)
    await cqlMany(`INSERT INTO ${keyspace}.gone (p, c) VALUES (?, ?)`, Array.from({ length: 100 }, (_, n) => [Math.floor(n / 5), n % 5]))
    await withSource(url, async (source) => {
      const spec = { table: 'gone', key: ['p', 'c'], partition: {}, pageSize: 13 }
      const all = await pages(source.read(spec))
      const order = all.flatMap((p) => p.rows).map((r) => `${String(r.p)}/${String(r.c)}`)
      const position = all[3]!.position as { k: Json[] }
      await cql(`DELETE FROM ${keyspace}.gone WHERE p = ?`, [position.k[0]])
      const rest = (await pages(source.read({ ...spec, after: all[3]!.position }))).flatMap((p) => p.rows).map((r) => `${String(r.p)}/${String(r.c)}`)
      t.deepEqual(rest, order.slice(52).filter((k) => !k.startsWith(`${String(position.k[0])}/`)))
    })
  })

  test('a composite partition key, a filter in CQL, counted and read by token range', async (t) => {
    await cql(`CREATE TABLE ${keyspace}.orders (shop text, day date, n int, status text, total decimal, PRIMARY KEY ((shop, day), n))`)
    const orders = Array.from({ length: 300 }, (_, i) => [`s${i % 5}`, `2024-01-0${1 + (i % 7)}`, i, i % 3 ? 'open' : 'done', `${i}.50`])
    await cqlMany(`INSERT INTO ${keyspace}.orders (shop, day, n, status, total) VALUES (?, ?, ?, ?, ?)`, orders)
    await withSource(url, async (source) => {
      const filter = "status = 'done'"
      t.is(await source.count('orders', filter), 100)
      const spec = { table: 'orders', key: ['shop', 'day', 'n'], filter }
      const partitions = await source.partitions(spec, 10)
      const rows = (await Promise.all(partitions.map(async (partition) => (await pages(source.read({ ...spec, partition, pageSize: 8 }))).flatMap((p) => p.rows)))).flat()
      t.is(rows.length, 100)
      t.true(rows.every((r) => r.status === 'done' && typeof r.total === 'string' && String(r.total).endsWith('.50')))
      t.like(rows.find((r) => r.n === 3), { shop: 's3', day: '2024-01-04', total: '3.50' })
    })
  })

  test('a key other than the primary key is refused, naming it; a table in another case is named', async (t) => {
    await withSource(url, async (source) => {
      const error = await t.throwsAsync(source.partitions({ table: 'wide', key: ['p'] }))
      t.regex(error.message, /read in token order of its primary key \(`p`, `c1`, `c2`\)/)
      const missing = await t.throwsAsync(source.describe('WIDE'))
      t.regex(missing.message, /table `WIDE` does not exist .*it has `wide`/)
    })
  })

  test('a keyspace that does not exist is refused, naming it and how to have it created', async (t) => {
    const missing = url.replace(keyspace, `${keyspace}_none`)
    const error = await t.throwsAsync(withSource(missing, async () => {}))
    t.regex(error.message, new RegExp(`: cassandra keyspace \`${keyspace}_none\` at [^ ]+ does not exist; create it, or set \`replicationFactor\``))
  })
}
