import { existsSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { createSource } from '../sources/sqlite.js'
import { KeyError } from '../src/key-check.js'
import { tupleToJson } from '../src/keys.js'
import { runPipeline } from '../src/run.js'
import { exec, query, tempDir, testSettings } from './helpers.js'
import { runChild } from './kill-helpers.js'
import { mysqlQuery, pgQuery, requireServers, servers } from './servers.js'
import { failingAfter } from './sink-faults.js'

// Asked before any test is declared: ava wants every declaration in one go.
const withPostgres = await requireServers('postgres')
const withMysql = await requireServers('mysql')

/** A link table keyed (order_id, line): 100 orders of 30 lines. */
function orderLines(file: string): string {
  exec(
    file,
    `CREATE TABLE order_lines (order_id INTEGER NOT NULL, line INTEGER NOT NULL, name TEXT NOT NULL, PRIMARY KEY (order_id, line));
     WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < 2999)
     INSERT INTO order_lines SELECT n / 30 + 1, n % 30 + 1, 'line ' || n FROM s`,
  )
  return `sqlite:${file}`
}

test('a declared key that is not unique is refused before any row moves: exit 2, naming the table, the columns and what would do', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  const run = await runChild({ SOURCE_URL: orderLines(join(dir, 'source.db')), TARGET_URL: `sqlite:${target}`, SOURCE_TABLE: 'order_lines', KEY: 'order_id', WORK_DIR: dir })
  t.is(run.code, 2, run.output)
  t.regex(run.output, /setting `primaryKey`: \(`order_id`\) is not a unique key of source table `order_lines` \(its primary key is \(`order_id`, `line`\)\)/)
  t.regex(run.output, /set `primaryKey` to a unique key such as \["order_id","line"\]/)
  t.false(existsSync(target), 'no target was created')
})

test('a NULL in a key column is refused before any row moves: exit 2, naming the table and the column', async (t) => {
  const dir = tempDir()
  const source = join(dir, 'source.db')
  // SQLite lets a primary key other than INTEGER PRIMARY KEY hold NULLs.
  exec(source, `CREATE TABLE items (id TEXT PRIMARY KEY, name TEXT); INSERT INTO items VALUES ('a', 'x'), (NULL, 'y'), ('c', 'z')`)
  const target = join(dir, 'target.db')
  const run = await runChild({ SOURCE_URL: `sqlite:${source}`, TARGET_URL: `sqlite:${target}`, WORK_DIR: dir })
  t.is(run.code, 2, run.output)
  t.regex(run.output, /key \(`id`\) of source table `items` is NULL in some rows \(column \(`id`\) allows NULL\)/)
  t.false(existsSync(target))
})

test('without primaryKey the source table decides the key: its composite primary key', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  const result = await runPipeline(
    testSettings(dir, { source: orderLines(join(dir, 'source.db')), target: `sqlite:${target}`, sourceTable: 'order_lines', chunkSize: 700, batchSize: 100, validate: 'checksum' }),
  )
  t.is(result.status, 'SUCCESS', result.error?.message)
  t.is(result.validation?.expectedCount, 3000)
  t.deepEqual(query(target, 'SELECT COUNT(*) AS n FROM (SELECT DISTINCT order_id, line FROM order_lines)'), [{ n: 3000 }])
})

test('a table without a primary key is keyed by a unique index over NOT NULL columns', async (t) => {
  const dir = tempDir()
  const source = join(dir, 'source.db')
  exec(source, `CREATE TABLE tags (name TEXT NOT NULL, note TEXT); CREATE UNIQUE INDEX tags_name ON tags (name);
    INSERT INTO tags VALUES ('b', '1'), ('a', '2'), ('C', '3')`)
  const result = await runPipeline(testSettings(dir, { source: `sqlite:${source}`, target: `sqlite:${join(dir, 't.db')}`, sourceTable: 'tags', validate: 'checksum' }))
  t.is(result.status, 'SUCCESS', result.error?.message)
  t.is(result.stats.migrated, 3)
})

test('a table with no key at all is refused, saying to name one and assert it', async (t) => {
  const dir = tempDir()
  const source = join(dir, 'source.db')
  exec(source, `CREATE TABLE logs (at TEXT, line TEXT); INSERT INTO logs VALUES ('1', 'x')`)
  const result = await runPipeline(testSettings(dir, { source: `sqlite:${source}`, target: `sqlite:${join(dir, 't.db')}`, sourceTable: 'logs' }))
  t.true(result.error instanceof KeyError)
  t.regex(result.error!.message, /source table `logs` has no primary key or unique key: set `primaryKey` .* `assertUniqueKey: true`/)
})

test('an asserted key on a view moves every row; two rows sharing it, even across a page boundary, stop the run naming the key', async (t) => {
  const dir = tempDir()
  const source = join(dir, 'source.db')
  exec(
    source,
    `CREATE TABLE events (id INTEGER PRIMARY KEY, code TEXT NOT NULL);
     WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 500) INSERT INTO events SELECT n, printf('c%04d', n) FROM s;
     CREATE VIEW codes AS SELECT code, id FROM events`,
  )
  const settings = (batchSize: number) =>
    testSettings(dir, { source: `sqlite:${source}`, target: `sqlite:${join(dir, `t${batchSize}.db`)}`, sourceTable: 'codes', primaryKey: 'code', assertUniqueKey: true, batchSize, validate: 'checksum' })
  const clean = await runPipeline(settings(100))
  t.is(clean.status, 'SUCCESS', clean.error?.message)
  t.is(clean.stats.migrated, 500)

  const refused = await runPipeline({ ...settings(100), assertUniqueKey: false })
  t.regex(refused.error!.message, /\(`code`\) is not a unique key of source table `codes` \(it has no primary key\)/)

  // Row 100 ends the first page of 100; its twin would be skipped by `code > 'c0100'`.
  exec(source, `UPDATE events SET code = 'c0100' WHERE id = 101`)
  const duplicate = await runPipeline(settings(100))
  t.is(duplicate.status, 'FAILED')
  t.true(duplicate.error instanceof KeyError)
  t.is(duplicate.error!.message, "source table `codes` has two rows with key 'c0100': the key (`code`) asserted unique is not; choose key columns that are")
})

if (withPostgres) {
  test('postgres → sqlite: a (date, timestamptz, uuid) key keeps its values exact through partition bounds and a resume', async (t) => {
    const dir = tempDir()
    const table = `keys_${process.pid}_${Date.now().toString(36)}`
    await pgQuery(
      `CREATE TABLE ${table} (day date, at timestamptz, sensor uuid, value numeric(10,2), PRIMARY KEY (day, at, sensor))`,
      `INSERT INTO ${table} SELECT DATE '2024-02-27' + n % 5, TIMESTAMPTZ '2024-03-01 00:00:00.123456+05:30' + n * interval '1.5 second',
         md5(n::text)::uuid, n / 7.0 FROM generate_series(1, 3000) n`,
    )
    try {
      const target = join(dir, 'target.db')
      const base = { source: servers.postgres, sourceTable: table, targetTable: 'readings', writeMode: 'insert' as const, chunkSize: 400, batchSize: 100, checkpointInterval: 200, validate: 'checksum' as const }
      const failed = await runPipeline(testSettings(dir, { ...base, target: failingAfter(target, 17) }))
      t.is(failed.status, 'FAILED')
      const resumed = await runPipeline(testSettings(dir, { ...base, target: failingAfter(target, Infinity), resume: true }))
      t.is(resumed.status, 'SUCCESS', resumed.error?.message)
      t.true(resumed.validation?.passed)
      t.deepEqual(query(target, 'SELECT COUNT(*) AS n FROM (SELECT DISTINCT day, at, sensor FROM readings)'), [{ n: 3000 }])
    } finally {
      await pgQuery(`DROP TABLE ${table}`)
    }
  })
}

if (withMysql) {
  test('mysql: a duplicate asserted key stops the run with nothing committed after it reports FAILED, and the process is left idle', async (t) => {
    const dir = tempDir()
    const table = `keysdup_${process.pid}_${Date.now().toString(36)}`
    await mysqlQuery(
      `CREATE TABLE ${table} (id INT PRIMARY KEY, a INT NOT NULL, b INT NOT NULL)`,
      `INSERT INTO ${table} SELECT seq, seq DIV 10, seq % 10 FROM seq_1_to_2000`,
      `UPDATE ${table} SET a = 48, b = 4 WHERE id = 485`,
      `CREATE VIEW ${table}_v AS SELECT a, b, id FROM ${table}`,
    )
    try {
      const result = await runPipeline(
        testSettings(dir, {
          source: servers.mysql,
          target: servers.mysql,
          sourceTable: `${table}_v`,
          targetTable: `${table}_copy`,
          primaryKey: ['a', 'b'],
          assertUniqueKey: true,
          batchSize: 97,
          retryDelay: 300,
        }),
      )
      t.is(result.status, 'FAILED')
      t.regex(result.error?.message ?? '', /two rows with key \(48, 4\)/)
      const count = async () => Number((await mysqlQuery<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}_copy`))[0]!.n)
      const atEnd = await count()
      t.is(atEnd, result.stats.migrated, 'the report counts what the target holds')
      await new Promise((done) => setTimeout(done, 1000))
      t.is(await count(), atEnd, 'no write was retried on a new connection after the run ended')
    } finally {
      await mysqlQuery(`DROP VIEW IF EXISTS ${table}_v`, `DROP TABLE IF EXISTS ${table}`, `DROP TABLE IF EXISTS ${table}_copy`)
    }
  })
}

if (withPostgres && withMysql) {
  test('keys differing only in case or trailing spaces stay distinct rows in a MariaDB table ferry creates', async (t) => {
    const dir = tempDir()
    const table = `keyspad_${process.pid}_${Date.now().toString(36)}`
    await pgQuery(`CREATE TABLE ${table} (k text PRIMARY KEY, n int)`, `INSERT INTO ${table} VALUES ('a', 1), ('a ', 2), ('A', 3), ('a  ', 4), ('b', 5)`)
    try {
      const result = await runPipeline(testSettings(dir, { source: servers.postgres, target: servers.mysql, sourceTable: table, validate: 'checksum' }))
      t.is(result.status, 'SUCCESS', result.error?.message)
      t.like(result.validation, { passed: true, targetCount: 5 })
      t.deepEqual(await mysqlQuery(`SELECT CONCAT('[', k, ']') AS k FROM ${table} ORDER BY n`), ['[a]', '[a ]', '[A]', '[a  ]', '[b]'].map((k) => ({ k })))
    } finally {
      await pgQuery(`DROP TABLE ${table}`)
      await mysqlQuery(`DROP TABLE IF EXISTS ${table}`)
    }
  })
}

test('a read of an asserted key from a position refuses a second row with the key of that position', async (t) => {
  const dir = tempDir()
  const file = join(dir, 'source.db')
  exec(file, `CREATE TABLE events (id INTEGER PRIMARY KEY, code TEXT NOT NULL);
    INSERT INTO events VALUES (1, 'a'), (2, 'b'), (3, 'b'), (4, 'c'); CREATE VIEW codes AS SELECT code, id FROM events`)
  const source = createSource(`sqlite:${file}`)
  await source.open()
  try {
    const read = (verifyUnique: boolean) => async () => {
      const codes: unknown[] = []
      for await (const page of source.read({ table: 'codes', key: ['code'], partition: {}, after: tupleToJson(['b']), pageSize: 10, verifyUnique })) codes.push(...page.rows.map((r) => r.code))
      return codes
    }
    t.deepEqual(await read(false)(), ['c'], 'a declared key reads strictly after the position')
    const err = await t.throwsAsync(read(true), { instanceOf: KeyError })
    t.regex(err!.message, /two rows with key 'b'/)
  } finally {
    await source.close()
  }
})
