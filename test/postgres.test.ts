import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { PostgresSink } from '../sinks/postgres.js'
import { createSource } from '../sources/postgres.js'
import { classifyPgError, pgConfig } from '../src/engines/postgres.js'
import { runPipeline } from '../src/run.js'
import { exec, itemsDb, range, tempDir, testSettings } from './helpers.js'
import { dropTables, pgQuery, requireServers, servers } from './servers.js'

const run = `pg_${process.pid.toString(36)}_${Date.now().toString(36)}`
const url = servers.postgres

if (await requireServers('postgres')) {
  test.after.always(async () => {
    await dropTables(new RegExp(`^${run}`))
  })

  test('describe reads types, nullability, precision and the key order from the catalog', async (t) => {
    const table = `${run}_describe`
    await pgQuery(
      `CREATE DOMAIN ${run}_money AS numeric(5,2)`,
      `CREATE TABLE "${table}" (a int2, b int4 NOT NULL, c int8, d numeric(12,2), e numeric, f real, g float8, h bool,
        i char(3), j varchar(10), k text, l date, m timestamp, n timestamptz, o json, p jsonb, q bytea, r uuid,
        s interval, u int4[], v ${run}_money, PRIMARY KEY (c, b))`,
      `CREATE UNIQUE INDEX ON "${table}" (j, a)`,
      `CREATE UNIQUE INDEX ON "${table}" (l) INCLUDE (m)`,
      `CREATE UNIQUE INDEX ON "${table}" (k) WHERE k <> ''`,
      `CREATE UNIQUE INDEX ON "${table}" (lower(k))`,
    )
    const source = createSource(url)
    await source.open()
    const schema = await source.describe(table)
    await source.close()
    await pgQuery(`DROP TABLE "${table}"`, `DROP DOMAIN ${run}_money`)
    const shape = Object.fromEntries(schema.columns.map((c) => [c.name, [c.type, c.precision, c.scale, c.nullable]]))
    t.deepEqual(shape, {
      a: ['integer', undefined, undefined, true],
      b: ['integer', undefined, undefined, false],
      c: ['bigint', undefined, undefined, false],
      d: ['decimal', 12, 2, true],
      e: ['decimal', undefined, undefined, true],
      f: ['float', undefined, undefined, true],
      g: ['float', undefined, undefined, true],
      h: ['boolean', undefined, undefined, true],
      i: ['text', undefined, undefined, true],
      j: ['text', undefined, undefined, true],
      k: ['text', undefined, undefined, true],
      l: ['date', undefined, undefined, true],
      m: ['timestamp', undefined, undefined, true],
      n: ['timestamptz', undefined, undefined, true],
      o: ['json', undefined, undefined, true],
      p: ['json', undefined, undefined, true],
      q: ['bytes', undefined, undefined, true],
      r: ['uuid', undefined, undefined, true],
      s: ['text', undefined, undefined, true],
      u: ['text', undefined, undefined, true],
      v: ['decimal', 5, 2, true],
    })
    t.deepEqual(schema.primaryKey, ['c', 'b'])
    t.deepEqual(schema.uniqueKeys, [['c', 'b'], ['j', 'a'], ['l']], 'partial and expression indexes do not make columns unique, nor INCLUDE')
    t.is(schema.columns.find((c) => c.name === 'j')!.nativeType, 'character varying(10)')
  })

  test('cuts partitions at every n-th key, reads them in pages from a cursor, and an abandoned read frees the connection', async (t) => {
    const table = `${run}_pages`
    await pgQuery(`CREATE TABLE "${table}" AS SELECT g * 3 AS id, 'row ' || g AS name FROM generate_series(1, 1000) g`, `ALTER TABLE "${table}" ADD PRIMARY KEY (id)`)
    const source = createSource(url)
    await source.open()
    const read = { table, key: ['id'] }
    const ids = async (partition: unknown, after?: unknown) => {
      const pages: { ids: number[]; position: unknown }[] = []
      for await (const page of source.read({ ...read, partition: partition as never, after: after as never, pageSize: 4 })) {
        pages.push({ ids: page.rows.map((r) => r.id as number), position: page.position })
      }
      return pages
    }
    try {
      t.is(await source.count(table), 1000)
      t.is(await source.count(table, 'id % 2 = 0'), 500)
      t.deepEqual(await source.partitions(read, 300), [{ lte: [900] }, { gt: [900], lte: [1800] }, { gt: [1800], lte: [2700] }, { gt: [2700] }])
      t.deepEqual(await source.partitions({ ...read, filter: 'id > 1500' }, 300), [{ lte: [2400] }, { gt: [2400] }])
      t.deepEqual(await ids({ gt: [30], lte: [60] }), [
        { ids: [33, 36, 39, 42], position: [42] },
        { ids: [45, 48, 51, 54], position: [54] },
        { ids: [57, 60], position: [60] },
      ])
      t.deepEqual((await ids({ gt: [30], lte: [60] }, [51])).map((p) => p.ids), [[54, 57, 60]], 'a read resumes after its position')
      for await (const page of source.read({ ...read, partition: {}, pageSize: 10 })) {
        t.is(page.rows.length, 10)
        break
      }
      // The cursor's portal was closed: the connection answers the next query at once.
      t.is(await source.count(table), 1000)
    } finally {
      await source.close()
    }
  })

  test('SQLSTATEs map to transient, rejected and fatal', (t) => {
    const kind = (code: string) => classifyPgError(Object.assign(new Error(code), { code }))
    t.deepEqual(['23505', '23502', '22001', '22P02', '22003'].map(kind), Array(5).fill('rejected'))
    t.deepEqual(['08006', '40001', '40P01', '57P01', '53300', 'ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED'].map(kind), Array(8).fill('transient'))
    t.deepEqual(['42P01', '42501', '42703', '28P01'].map(kind), Array(4).fill('fatal'))
    t.is(classifyPgError(new Error('Connection terminated unexpectedly')), 'transient')
  })

  test('rows the target cannot hold are rejected one by one, naming the column and key', async (t) => {
    const dir = tempDir()
    const table = `${run}_strict`
    await pgQuery(`CREATE TABLE "${table}" (id bigint PRIMARY KEY, name varchar(12) NOT NULL, qty numeric(4,1))`)
    const source = join(dir, 'source.db')
    exec(source, `CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty REAL);
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) INSERT INTO items SELECT i, 'item ' || i, i % 10 FROM n;
      UPDATE items SET name = 'far too long a name' WHERE id = 50; UPDATE items SET name = NULL WHERE id = 120;
      UPDATE items SET qty = 1.25 WHERE id = 200; UPDATE items SET name = 'nul' || char(0) WHERE id = 250`)
    const result = await runPipeline(
      testSettings(dir, { source: `sqlite:${source}`, target: url, sourceTable: 'items', targetTable: table, writeMode: 'insert', onRejectedRow: 'skip', batchSize: 100 }),
    )
    t.is(result.status, 'REJECTED_ROWS', result.error?.message)
    t.is(result.stats.failed, 4)
    t.is(result.stats.migrated, 296)
    const report = JSON.parse(readFileSync(result.reportFile, 'utf8')) as { summary: { rejectedRowsFile: string } }
    const rejected = readFileSync(report.summary.rejectedRowsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { key: number; error: string })
    t.deepEqual(rejected.map((r) => r.key), [50, 120, 200, 250])
    t.regex(rejected[0]!.error, /value too long for type character varying\(12\); column `name`/)
    t.regex(rejected[1]!.error, /null value in column "name"/)
    t.regex(rejected[2]!.error, /column `qty` of the row with key 200 cannot hold the value exactly: 1.25 has more than 1 digits after the point/)
    t.regex(rejected[3]!.error, /0x00/)
    t.deepEqual(await pgQuery(`SELECT count(*)::int AS n FROM "${table}"`), [{ n: 296 }])
  })

  test('upserts replace rows on the key; a second plain insert is rejected by the key', async (t) => {
    const dir = tempDir()
    const table = `${run}_upsert`
    const settings = (writeMode: 'upsert' | 'insert', file: string) =>
      testSettings(dir, { source: `sqlite:${file}`, target: url, sourceTable: 'items', targetTable: table, writeMode, batchSize: 64, validate: 'checksum', targetWhere: 'id >= 250' })
    const first = join(dir, 'first.db')
    itemsDb(first, range(250, 500))
    t.is((await runPipeline(settings('upsert', first))).status, 'SUCCESS')
    const second = join(dir, 'second.db')
    itemsDb(second, range(250, 750))
    exec(second, "UPDATE items SET name = 'changed ' || id")
    const upserted = await runPipeline(settings('upsert', second))
    t.is(upserted.status, 'SUCCESS', upserted.error?.message)
    t.deepEqual(await pgQuery(`SELECT count(*)::int AS n, count(*) FILTER (WHERE name LIKE 'changed%')::int AS c FROM "${table}"`), [{ n: 501, c: 501 }])
    const again = await runPipeline(settings('insert', second))
    t.is(again.status, 'FAILED')
    t.regex(again.error!.message, /rejected the row with key 250: duplicate key value violates unique constraint/)
  })

  test('a refused connection is transient', async (t) => {
    const sink = new PostgresSink(pgConfig('postgres://postgres@127.0.0.1:1/none'))
    const err = await t.throwsAsync(sink.open())
    t.is(sink.classify(err), 'transient')
  })

  test('a write after the server drops the connection reconnects and succeeds', async (t) => {
    const table = `${run}_reconnect`
    const app = `${run}_app`
    const sink = new PostgresSink(pgConfig(`${url}?application_name=${app}`))
    await sink.open()
    try {
      const schema = await sink.prepare({
        table,
        mode: 'recreate',
        schema: { table, primaryKey: ['id'], uniqueKeys: [['id']], columns: [{ name: 'id', nativeType: 'bigint', type: 'bigint', nullable: false }] },
      })
      const target = { table, columns: schema.columns, key: ['id'] }
      await sink.write(target, [{ id: 1 }], 'insert')
      const [killed] = await pgQuery([`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1`, [app]])
      t.deepEqual(killed, { n: 1 })
      // The client reports the dropped connection; the next write opens a new one.
      await new Promise((resolve) => setTimeout(resolve, 100))
      await sink.write(target, [{ id: 2 }], 'insert')
      t.deepEqual(await sink.lookup(target, [[1], [2], [3], [2n ** 62n]]), [{ id: 1 }, { id: 2 }])
      t.is(await sink.count(table), 2)
      t.deepEqual(await pgQuery(`SELECT id::int FROM "${table}" ORDER BY id`), [{ id: 1 }, { id: 2 }])
    } finally {
      await sink.close()
    }
  })

  for (const strategy of ['streaming', 'chunked', 'parallel'] as const) {
    test(`${strategy}: postgres → postgres validates by checksum`, async (t) => {
      const dir = tempDir()
      const source = `${run}_${strategy}_src`
      await pgQuery(
        `CREATE TABLE "${source}" AS SELECT g * 7 AS id, md5(g::text) AS name, (g % 100)::numeric / 8 AS qty, now() - g * interval '1 minute' AS at FROM generate_series(1, 20000) g`,
        `ALTER TABLE "${source}" ADD PRIMARY KEY (id)`,
      )
      const result = await runPipeline(
        testSettings(dir, { source: url, target: url, sourceTable: source, targetTable: `${run}_${strategy}_dst`, strategy, chunkSize: 3000, numWorkers: 3, batchSize: 1000, validate: 'checksum', writeMode: 'insert' }),
      )
      t.is(result.status, 'SUCCESS', result.error?.message)
      t.is(result.stats.migrated, 20000)
      t.true(result.validation?.passed)
      t.is(result.validation?.mode, 'checksum')
    })
  }
}
