// The checks the PostgreSQL and MySQL suites make, for a SQL Server or Oracle server reached by
// URL (test/mssql.test.ts, test/oracle.test.ts): catalog, partitions and pages, refused rows,
// upserts, a dropped connection, every strategy with checksum validation, every type through
// the engine and back, hostile names, and runs killed with SIGKILL that resume exactly.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { openSink, openSource } from '../src/engines/registry.js'
import { runPipeline } from '../src/run.js'
import type { Sink } from '../src/sink.js'
import type { Row, TableSchema } from '../src/types.js'
import { compareRows, fixtureRows, fixtureSchema, loadFixture, logicalShape, readAll } from './fixtures/types.js'
import { exec, itemsDb, query, range, tempDir, testSettings } from './helpers.js'
import { finalStatus, killAndResume } from './kill-helpers.js'

/** A server under test, and how to speak its SQL. */
export interface ExternalDb {
  readonly name: 'mssql' | 'oracle'
  readonly url: string
  /** Runs statements (committed); returns the last one's rows. */
  sql(...statements: string[]): Promise<Row[]>
  q(name: string): string
  /** A FROM clause giving a column `n` from 0 to count - 1. */
  series(count: number): string
  concat(a: string, b: string): string
  /** DDL types: an integer, a bounded text. */
  readonly int: string
  text(length: number): string
  /** Drops the tables whose names start with the prefix. */
  dropTables(prefix: string): Promise<void>
  /** Ends the sessions of the given application or module name (another connection's doing), for the reconnect test. */
  killSessions?(marker: string): Promise<number>
  /** The URL of a connection that names itself `marker`, so that killSessions finds it. */
  markedUrl?(marker: string): string
  /**
   * When the fixture cannot go through this engine as it is (Oracle: no `"` in a name, no empty
   * string): the transform of its first hop, and the rows and schema expected after it.
   */
  readonly fixture?: { readonly transform: (row: Row) => Row; readonly rows: (row: Row) => Row; readonly schema: (schema: TableSchema) => TableSchema }
}

export function serverSuite(db: ExternalDb): void {
  const run = `f${process.pid.toString(36)}${Date.now().toString(36)}`
  const name = (suffix: string) => `${run}_${suffix}`
  const { q } = db
  test.after.always(() => db.dropTables(run))

  test(`${db.name}: cuts partitions at every n-th key, reads them in pages, resumes after a position`, async (t) => {
    const table = name('pages')
    await db.sql(`CREATE TABLE ${q(table)} (${q('id')} ${db.int} PRIMARY KEY, ${q('name')} ${db.text(40)})`, `INSERT INTO ${q(table)} SELECT (n + 1) * 3, ${db.concat("'row '", 'n')} FROM ${db.series(1000)}`)
    const source = await openSource(db.url)
    try {
      const read = { table, key: ['id'] }
      t.is(await source.count(table), 1000)
      t.is(await source.count(table, `${q('id')} > 1500`), 500)
      t.deepEqual(await source.partitions(read, 300), [{ lte: [900] }, { gt: [900], lte: [1800] }, { gt: [1800], lte: [2700] }, { gt: [2700] }])
      const pages: number[][] = []
      for await (const page of source.read({ ...read, partition: { gt: [30], lte: [60] }, after: [42], pageSize: 4 })) pages.push(page.rows.map((r) => r.id as number))
      t.deepEqual(pages, [[45, 48, 51, 54], [57, 60]])
      for await (const page of source.read({ ...read, partition: {}, pageSize: 10 })) {
        t.is(page.rows.length, 10)
        break
      }
      t.is(await source.count(table), 1000, 'an abandoned read holds nothing open')
    } finally {
      await source.close()
    }
  })

  test(`${db.name}: rows the target cannot hold are refused one by one, naming the column and key`, async (t) => {
    const dir = tempDir()
    const table = name('strict')
    await db.sql(`CREATE TABLE ${q(table)} (${q('id')} ${db.int} PRIMARY KEY, ${q('name')} ${db.text(12)} NOT NULL, ${q('qty')} DECIMAL(4,1))`)
    const source = join(dir, 'source.db')
    exec(source, `CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, qty REAL);
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300) INSERT INTO items SELECT i, 'item ' || i, i % 10 FROM n;
      UPDATE items SET name = 'far too long a name' WHERE id = 50; UPDATE items SET name = NULL WHERE id = 120; UPDATE items SET qty = 1.25 WHERE id = 200`)
    const result = await runPipeline(
      testSettings(dir, { source: `sqlite:${source}`, target: db.url, sourceTable: 'items', targetTable: table, writeMode: 'insert', onRejectedRow: 'skip', batchSize: 100, validate: 'checksum' }),
    )
    t.is(result.status, 'REJECTED_ROWS', result.error?.message)
    t.is(result.stats.failed, 3)
    t.is(result.stats.migrated, 297)
    t.true(result.validation?.passed, 'refused rows are not expected in the target')
    const report = JSON.parse(readFileSync(result.reportFile, 'utf8')) as { summary: { rejectedRowsFile: string } }
    const rejected = readFileSync(report.summary.rejectedRowsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { key: number; error: string })
    t.deepEqual(rejected.map((r) => r.key), [50, 120, 200])
    t.regex(rejected[2]!.error, /column `qty` of the row with key 200 cannot hold the value exactly: 1.25 has more than 1 digits after the point/)
  })

  test(`${db.name}: upserts replace rows on the key; a second plain insert is refused by the key`, async (t) => {
    const dir = tempDir()
    const table = name('upsert')
    const settings = (writeMode: 'upsert' | 'insert', file: string) =>
      testSettings(dir, { source: `sqlite:${file}`, target: db.url, sourceTable: 'items', targetTable: table, writeMode, batchSize: 64, validate: 'checksum', targetWhere: `${q('id')} >= 250` })
    const first = join(dir, 'first.db')
    itemsDb(first, range(250, 500))
    t.is((await runPipeline(settings('upsert', first))).status, 'SUCCESS')
    const second = join(dir, 'second.db')
    itemsDb(second, range(250, 750))
    exec(second, "UPDATE items SET name = 'changed ' || id")
    const upserted = await runPipeline(settings('upsert', second))
    t.is(upserted.status, 'SUCCESS', upserted.error?.message)
    const [counts] = await db.sql(`SELECT COUNT(*) AS ${q('n')}, SUM(CASE WHEN ${q('name')} LIKE 'changed%' THEN 1 ELSE 0 END) AS ${q('c')} FROM ${q(table)}`)
    t.deepEqual([Number(counts!.n), Number(counts!.c)], [501, 501])
    const again = await runPipeline(settings('insert', second))
    t.is(again.status, 'FAILED')
    t.regex(again.error!.message, /rejected the row with key 250: /)
  })

  if (db.killSessions && db.markedUrl) {
    test(`${db.name}: a write after the server drops the connection reconnects and succeeds`, async (t) => {
      const table = name('reconnect')
      const marker = name('app')
      const sink: Sink = await openSink(db.markedUrl!(marker))
      try {
        const schema = await sink.prepare({
          table,
          mode: 'recreate',
          schema: { table, primaryKey: ['id'], uniqueKeys: [['id']], columns: [{ name: 'id', nativeType: 'bigint', type: 'bigint', nullable: false }] },
        })
        const target = { table, columns: schema.columns, key: ['id'] }
        await sink.write(target, [{ id: 1 }], 'insert')
        t.true((await db.killSessions!(marker)) >= 1)
        await new Promise((resolve) => setTimeout(resolve, 200))
        // The first write may meet the dead connection (transient: the pipeline retries it), the next reconnects.
        await sink.write(target, [{ id: 2 }], 'insert').catch((err: unknown) => t.is(sink.classify(err), 'transient'))
        await sink.write(target, [{ id: 3 }], 'insert')
        t.deepEqual((await sink.lookup(target, [[1], [3], [2n ** 62n]])).map((r) => r.id).sort(), [1, 3])
      } finally {
        await sink.close()
      }
    })
  }

  for (const strategy of ['streaming', 'chunked', 'parallel'] as const) {
    test(`${db.name}, ${strategy}: ${db.name} → ${db.name} validates by checksum`, async (t) => {
      const dir = tempDir()
      const source = name(`${strategy}_src`)
      await db.sql(
        `CREATE TABLE ${q(source)} (${q('id')} ${db.int} PRIMARY KEY, ${q('name')} ${db.text(40)}, ${q('qty')} DECIMAL(10,3))`,
        `INSERT INTO ${q(source)} SELECT n * 7 + 1, ${db.concat("'name '", 'n')}, (n % 100) / 8.0 FROM ${db.series(20000)}`,
      )
      const result = await runPipeline(
        testSettings(dir, { source: db.url, target: db.url, sourceTable: source, targetTable: name(`${strategy}_dst`), strategy, chunkSize: 3000, numWorkers: 3, batchSize: 1000, validate: 'checksum', writeMode: 'insert' }),
      )
      t.is(result.status, 'SUCCESS', result.error?.message)
      t.is(result.stats.migrated, 20000)
      t.true(result.validation?.passed)
    })
  }

  const dir = tempDir('ferry-external-')
  const sqliteFixture = `sqlite:${join(dir, 'fixture.db')}`
  const loaded = loadFixture(sqliteFixture, 'fixture')
  const expectedSchema = (table: string): TableSchema => (db.fixture ? db.fixture.schema(fixtureSchema(table)) : fixtureSchema(table))

  test(`${db.name}: every value and type survives SQLite → ${db.name} → ${db.name} → SQLite, checksum-validated at each hop`, async (t) => {
    await loaded
    const hops: [string, string, string, string][] = [
      [sqliteFixture, db.url, 'fixture', name('types_a')],
      [db.url, db.url, name('types_a'), name('types_b')],
      [db.url, `sqlite:${join(dir, 'back.db')}`, name('types_b'), 'back'],
    ]
    for (const [i, [source, target, sourceTable, targetTable]] of hops.entries()) {
      const transform = i === 0 ? db.fixture?.transform : undefined
      const result = await runPipeline(
        testSettings(join(dir, `hop-${i}`), { source, target, sourceTable, targetTable, writeMode: 'recreate', validate: 'checksum', batchSize: 2, chunkSize: 2, ...(transform && { transform }) }),
      )
      t.is(result.status, 'SUCCESS', `${sourceTable} → ${targetTable}: ${result.error?.message ?? JSON.stringify(result.validation)}`)
      t.is(result.stats.migrated, 5)
      const { schema, rows } = await readAll(target, targetTable)
      t.deepEqual(logicalShape(schema), logicalShape(expectedSchema(targetTable)), `${targetTable}: types`)
      const expected = fixtureRows.map((r) => (db.fixture ? db.fixture.rows(r) : r))
      compareRows(t, rows, schema, `${sourceTable} → ${targetTable}`, expected)
    }
  })

  test(`${db.name}: hostile table and column names move SQLite → ${db.name} → SQLite`, async (t) => {
    const hostile = name("semi;colon -- 'q' [x]")
    const file = join(dir, 'hostile.db')
    exec(file, `CREATE TABLE "h" ("id" INTEGER PRIMARY KEY, "order" TEXT, "select" INT, "sp ace]" TEXT);
      INSERT INTO "h" VALUES (1, 'a', 1, 'x'), (2, 'b', NULL, 'y'), (3, NULL, 3, 'z')`)
    const back = join(dir, 'hostile-back.db')
    for (const [source, target, sourceTable, targetTable] of [[`sqlite:${file}`, db.url, 'h', hostile], [db.url, `sqlite:${back}`, hostile, 'h']] as const) {
      const result = await runPipeline(testSettings(tempDir(), { source, target, sourceTable, targetTable, validate: 'checksum', writeMode: 'recreate', strategy: 'parallel', chunkSize: 1, numWorkers: 2 }))
      t.is(result.status, 'SUCCESS', `${sourceTable} → ${targetTable}: ${result.error?.message}`)
    }
    t.deepEqual(query(back, 'SELECT * FROM "h" ORDER BY id'), [
      { id: 1, order: 'a', select: 1, 'sp ace]': 'x' },
      { id: 2, order: 'b', select: null, 'sp ace]': 'y' },
      { id: 3, order: null, select: 3, 'sp ace]': 'z' },
    ])
  })

  const rows = 16_000
  for (const strategy of ['chunked', 'parallel'] as const) {
    test(`${db.name} → ${db.name}, ${strategy}: a composite key moves exactly through two kill -9 and a resume`, async (t) => {
      const work = tempDir()
      const [source, target] = [name(`kill_${strategy}`), name(`kill_${strategy}_copy`)]
      await db.sql(
        `CREATE TABLE ${q(source)} (${q('order_id')} ${db.int} NOT NULL, ${q('line')} ${db.int} NOT NULL, ${q('name')} ${db.text(40)} NOT NULL, ${q('qty')} ${db.int}, PRIMARY KEY (${q('order_id')}, ${q('line')}))`,
        `INSERT INTO ${q(source)} SELECT FLOOR(n / 8) + 1, MOD(n, 8) * 3 + 1, ${db.concat("'line '", 'n')}, MOD(n, 100) FROM ${db.series(rows)}`.replace(/MOD\(n, (\d+)\)/g, db.name === 'mssql' ? '(n % $1)' : 'MOD(n, $1)'),
      )
      const env = { SOURCE_URL: db.url, TARGET_URL: db.url, SOURCE_TABLE: source, TARGET_TABLE: target, STRATEGY: strategy, BATCH_SIZE: '500', CHUNK_SIZE: '3000', CHECKPOINT_INTERVAL: '2000', WORK_DIR: work }
      const last = await killAndResume(t, env, [{ fault: 'sink-write:9' }, { fault: 'checkpoint-write:5' }])
      t.regex(last.output, new RegExp(`validation \\(checksum\\): source ${rows}, expected ${rows}, target ${rows}: passed`))
      const [counts] = await db.sql(
        `SELECT COUNT(*) AS ${q('n')}, SUM(CASE WHEN ${q('name')} = UPPER(${q('name')}) THEN 1 ELSE 0 END) AS ${q('u')} FROM ${q(target)}`,
      )
      t.deepEqual([Number(counts!.n), Number(counts!.u)], [rows, rows])
      t.is(finalStatus(t, work), 'SUCCESS')
    })
  }
}
