import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { MysqlSink } from '../sinks/mysql/mysql-sink.js'
import { createSource } from '../sources/mysql.js'
import { classifyMysqlError, mysqlOptions } from '../src/engines/mysql.js'
import { runPipeline } from '../src/run.js'
import { exec, itemsDb, range, tempDir, testSettings } from './helpers.js'
import { dropNamespaces, dropTables, mysqlQuery, requireServers, scratchUrl, servers } from './servers.js'

const run = `my_${process.pid.toString(36)}_${Date.now().toString(36)}`
const url = servers.mysql
const methods = { load: url, insert: `${url}${url.includes('?') ? '&' : '?'}bulk=insert` } as const

if (await requireServers('mysql')) {
  test.after.always(async () => {
    await dropTables(new RegExp(`^${run}`))
    await dropNamespaces()
  })

  test('describe reads types, nullability, precision and the key order from information_schema', async (t) => {
    const table = `${run}_describe`
    await mysqlQuery(
      `CREATE TABLE \`${table}\` (a tinyint(1), b tinyint, c smallint, d mediumint, e int NOT NULL, f int unsigned, g bigint NOT NULL,
        h bigint unsigned, i decimal(12,2), j float, k double, l char(3), m varchar(10), n text, o longtext, p enum('x','y'),
        q date, r datetime(6), s timestamp(6) NULL, u time, v year, w json, x binary(16), y varbinary(8), z longblob,
        PRIMARY KEY (g, e), UNIQUE (m, c), UNIQUE (n(20)))`,
    )
    const source = createSource(url)
    await source.open()
    const schema = await source.describe(table)
    await source.close()
    const shape = Object.fromEntries(schema.columns.map((c) => [c.name, [c.type, c.precision, c.scale, c.nullable]]))
    t.deepEqual(shape, {
      a: ['boolean', undefined, undefined, true],
      b: ['integer', undefined, undefined, true],
      c: ['integer', undefined, undefined, true],
      d: ['integer', undefined, undefined, true],
      e: ['integer', undefined, undefined, false],
      f: ['bigint', undefined, undefined, true],
      g: ['bigint', undefined, undefined, false],
      h: ['decimal', 20, 0, true],
      i: ['decimal', 12, 2, true],
      j: ['float', 24, undefined, true],
      k: ['float', undefined, undefined, true],
      l: ['text', undefined, undefined, true],
      m: ['text', undefined, undefined, true],
      n: ['text', undefined, undefined, true],
      o: ['text', undefined, undefined, true],
      p: ['text', undefined, undefined, true],
      q: ['date', undefined, undefined, true],
      r: ['timestamp', undefined, undefined, true],
      s: ['timestamptz', undefined, undefined, true],
      u: ['text', undefined, undefined, true],
      v: ['integer', undefined, undefined, true],
      w: ['json', undefined, undefined, true],
      x: ['bytes', undefined, undefined, true],
      y: ['bytes', undefined, undefined, true],
      z: ['bytes', undefined, undefined, true],
    })
    t.deepEqual(schema.primaryKey, ['g', 'e'])
    t.deepEqual(schema.uniqueKeys, [['g', 'e'], ['m', 'c'], ['n']], 'a unique prefix makes its column unique')
    t.is(schema.columns.find((c) => c.name === 'm')!.nativeType, 'varchar(10)')
  })

  test('reads 64-bit key ranges in pages, exactly', async (t) => {
    const table = `${run}_pages`
    const base = 2n ** 62n
    const ids = Array.from({ length: 100 }, (_, i) => base + BigInt(i) * 3n)
    await mysqlQuery(
      `CREATE TABLE \`${table}\` (id BIGINT PRIMARY KEY, n BIGINT UNSIGNED, d DECIMAL(65,30))`,
      [`INSERT INTO \`${table}\` VALUES ${ids.map(() => '(?, 18446744073709551615, ?)').join(',')}`, ids.flatMap((id) => [id, `${id}.${'9'.repeat(30)}`])],
    )
    const source = createSource(url)
    await source.open()
    const read = { table, key: ['id'] }
    try {
      t.is(await source.count(table), 100)
      t.deepEqual(await source.partitions(read, 40), [
        { lte: [{ $bigint: String(ids[39]) }] },
        { gt: [{ $bigint: String(ids[39]) }], lte: [{ $bigint: String(ids[79]) }] },
        { gt: [{ $bigint: String(ids[79]) }] },
      ])
      const pages: bigint[][] = []
      const partition = { gt: [{ $bigint: String(ids[10]) }], lte: [{ $bigint: String(ids[20]) }] }
      for await (const page of source.read({ ...read, partition, pageSize: 4 })) {
        pages.push(page.rows.map((r) => r.id as bigint))
        t.is(page.rows[0]!.n, '18446744073709551615')
        t.is(page.rows[0]!.d, `${String(page.rows[0]!.id)}.${'9'.repeat(30)}`)
      }
      t.deepEqual(pages, [ids.slice(11, 15), ids.slice(15, 19), ids.slice(19, 21)])
    } finally {
      await source.close()
    }
  })

  test('error numbers map to transient, rejected and fatal', (t) => {
    const kind = (errno: number) => classifyMysqlError(Object.assign(new Error(String(errno)), { errno }))
    t.deepEqual([1062, 1406, 1292, 1264, 1048, 1452, 3140, 1366].map(kind), Array(8).fill('rejected'))
    t.deepEqual([1213, 1205].map(kind), ['transient', 'transient'])
    t.deepEqual([1146, 1054, 1045].map(kind), ['fatal', 'fatal', 'fatal'])
    for (const code of ['PROTOCOL_CONNECTION_LOST', 'ECONNRESET']) {
      t.is(classifyMysqlError(Object.assign(new Error(code), { code })), 'transient')
    }
  })

  for (const [method, target] of Object.entries(methods)) {
    test(`${method}: rows the target cannot hold are rejected one by one, naming the column and key`, async (t) => {
      const dir = tempDir()
      const table = `${run}_${method}_strict`
      await mysqlQuery(`CREATE TABLE \`${table}\` (id BIGINT PRIMARY KEY, name VARCHAR(12) NOT NULL, qty DECIMAL(4,1), day DATE)`)
      const source = join(dir, 'source.db')
      exec(source, `CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty REAL, day DATE);
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) INSERT INTO items SELECT i, 'item ' || i, i % 10, '2024-01-01' FROM n;
        UPDATE items SET name = 'far too long a name' WHERE id = 50; UPDATE items SET name = NULL WHERE id = 120;
        UPDATE items SET qty = 1.25 WHERE id = 200; UPDATE items SET day = '2024-02-30' WHERE id = 250;
        UPDATE items SET qty = 12345 WHERE id = 280`)
      const result = await runPipeline(
        testSettings(dir, { source: `sqlite:${source}`, target, sourceTable: 'items', targetTable: table, writeMode: 'insert', onRejectedRow: 'skip', batchSize: 100 }),
      )
      t.is(result.status, 'REJECTED_ROWS', result.error?.message)
      const report = JSON.parse(readFileSync(result.reportFile, 'utf8')) as { summary: { rejectedRowsFile: string } }
      const rejected = readFileSync(report.summary.rejectedRowsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { key: number; error: string })
      t.deepEqual(rejected.map((r) => r.key), [50, 120, 200, 250, 280])
      t.regex(rejected[0]!.error, /column 'name'/)
      t.regex(rejected[1]!.error, /'name'/)
      t.regex(rejected[2]!.error, /column `qty` of the row with key 200 cannot hold the value exactly/)
      t.regex(rejected[3]!.error, /(Incorrect date value: '2024-02-30'|Data truncated) for column .*\bday\b/)
      t.regex(rejected[4]!.error, /qty/)
      t.is(result.stats.migrated, 295)
      t.deepEqual(await mysqlQuery(`SELECT COUNT(*) AS n FROM \`${table}\``), [{ n: 295 }])
    })

    test(`${method}: upserts replace rows on the key; a second plain insert is rejected by the key`, async (t) => {
      const dir = tempDir()
      const table = `${run}_${method}_upsert`
      const settings = (writeMode: 'upsert' | 'insert', file: string) =>
        testSettings(dir, { source: `sqlite:${file}`, target, sourceTable: 'items', targetTable: table, writeMode, batchSize: 64, validate: 'checksum', targetWhere: 'id >= 250' })
      const first = join(dir, 'first.db')
      itemsDb(first, range(250, 500))
      t.is((await runPipeline(settings('upsert', first))).status, 'SUCCESS')
      const second = join(dir, 'second.db')
      itemsDb(second, range(250, 750))
      exec(second, "UPDATE items SET name = 'changed ' || id")
      const upserted = await runPipeline(settings('upsert', second))
      t.is(upserted.status, 'SUCCESS', upserted.error?.message)
      t.deepEqual(await mysqlQuery(`SELECT COUNT(*) AS n, CAST(SUM(name LIKE 'changed%') AS SIGNED) AS c FROM \`${table}\``), [{ n: 501, c: 501 }])
      const again = await runPipeline(settings('insert', second))
      t.is(again.status, 'FAILED')
      t.regex(again.error!.message, /rejected the row with key 250: Duplicate entry '250'/)
    })
  }

  test('a write after the server kills the connection reconnects and succeeds', async (t) => {
    const db = `${run}_kill`
    const sink = new MysqlSink(mysqlOptions(await scratchUrl('mysql', db)))
    await sink.open()
    try {
      const table = 'items'
      const schema = await sink.prepare({
        table,
        mode: 'recreate',
        schema: { table, primaryKey: ['id'], uniqueKeys: [['id']], columns: [{ name: 'id', nativeType: 'bigint', type: 'bigint', nullable: false }] },
      })
      const target = { table, columns: schema.columns, key: ['id'] }
      await sink.write(target, [{ id: 1 }], 'insert')
      const ids = await mysqlQuery<{ id: number }>([`SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ?`, [db]])
      t.is(ids.length, 1)
      await mysqlQuery(`KILL ${Number(ids[0]!.id)}`)
      // The client may notice the killed connection before the write (it then reconnects first) or
      // by the write failing; either way the failure is transient and the next write succeeds.
      const failed = await sink.write(target, [{ id: 2 }], 'insert').then(
        () => false,
        (err: unknown) => (t.is(sink.classify(err), 'transient'), true),
      )
      if (failed) await sink.write(target, [{ id: 2 }], 'insert')
      t.deepEqual(await sink.lookup(target, [[1], [2], [3], [2n ** 62n]]), [{ id: 1 }, { id: 2 }])
      t.is(await sink.count(table), 2)
      t.deepEqual(await mysqlQuery(`SELECT id FROM \`${db}\`.items ORDER BY id`), [{ id: 1 }, { id: 2 }])
    } finally {
      await sink.close()
    }
  })

  for (const strategy of ['streaming', 'chunked', 'parallel'] as const) {
    test(`${strategy}: mysql → mysql validates by checksum`, async (t) => {
      const dir = tempDir()
      const source = `${run}_${strategy}_src`
      await mysqlQuery(
        `CREATE TABLE \`${source}\` (id BIGINT PRIMARY KEY, name VARCHAR(40), qty DECIMAL(10,3), at DATETIME(6), flag BOOLEAN)`,
        [
          `INSERT INTO \`${source}\` VALUES ?`,
          [range(1, 20000).map((i) => [i * 7, `name ${i}`, ((i % 100) / 8).toFixed(3), `19${String(60 + (i % 40))}-01-01 00:00:00.${i}`, i % 2])],
        ],
      )
      const result = await runPipeline(
        testSettings(dir, { source: url, target: methods.load, sourceTable: source, targetTable: `${run}_${strategy}_dst`, strategy, chunkSize: 3000, numWorkers: 3, batchSize: 1000, validate: 'checksum', writeMode: 'insert' }),
      )
      t.is(result.status, 'SUCCESS', result.error?.message)
      t.is(result.stats.migrated, 20000)
      t.true(result.validation?.passed)
    })
  }
}
