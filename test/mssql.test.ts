// SQL Server against a real server: runs when FERRY_TEST_MSSQL_URL points at one (see
// test/servers.ts), and is skipped with one line otherwise. No server could be installed where
// ferry is built; these tests were written against the documented behaviour and have not run.
import { join } from 'node:path'
import test from 'ava'
import { createSource } from '../sources/mssql.js'
import { runPipeline } from '../src/run.js'
import { exec, tempDir, testSettings } from './helpers.js'
import { type ExternalDb, serverSuite } from './external-suite.js'
import { externalServer } from './servers.js'

const url = externalServer('mssql')

/** Runs statements on the server through ferry's own connection; returns the last one's rows. */
async function sql(...statements: string[]) {
  const source = createSource(url!)
  await source.open()
  try {
    let rows: Record<string, unknown>[] = []
    for (const s of statements) rows = await source.connection.query(s, [])
    return rows
  } finally {
    await source.close()
  }
}

const q = (name: string) => `[${name.replaceAll(']', ']]')}]`

if (url) {
  const db: ExternalDb = {
    name: 'mssql',
    url,
    sql,
    q,
    series: (count) => `(SELECT TOP (${count}) ROW_NUMBER() OVER (ORDER BY (SELECT NULL)) - 1 AS n FROM sys.all_objects a CROSS JOIN sys.all_objects b) s`,
    concat: (a, b) => `CONCAT(${a}, ${b})`,
    int: 'int',
    text: (length) => `nvarchar(${length})`,
    dropTables: async (prefix) => {
      // Referencing tables first: foreign keys in the tests point at tables named before them.
      const tables = await sql(`SELECT name AS t FROM sys.tables WHERE schema_id = SCHEMA_ID() AND name LIKE '${prefix.replaceAll("'", "''")}%' ORDER BY name DESC`)
      for (const { t } of tables) await sql(`DROP TABLE ${q(String(t))}`)
    },
    markedUrl: (marker) => `${url}${url.includes('?') ? '&' : '?'}appName=${marker}`,
    killSessions: async (marker) => {
      const sessions = await sql(`SELECT session_id AS id FROM sys.dm_exec_sessions WHERE program_name = '${marker}'`)
      for (const { id } of sessions) await sql(`KILL ${Number(id)}`)
      return sessions.length
    },
  }
  serverSuite(db)
  const run = `m${process.pid.toString(36)}${Date.now().toString(36)}`
  test.after.always(() => db.dropTables(run))

  test('mssql: describe reads types, sizes, nullability, the key order and unique indexes from the catalog', async (t) => {
    const table = `${run}_describe`
    await sql(
      `CREATE TABLE ${q(table)} (a tinyint, b int NOT NULL, c bigint NOT NULL, d decimal(38,28), e money, f real, g float, h bit, i nchar(3), j nvarchar(10),
        k nvarchar(max), l varchar(20), m date, n datetime2(3), o datetime, p datetimeoffset(7), q varbinary(max), r uniqueidentifier, s time, PRIMARY KEY (c, b))`,
      `CREATE UNIQUE INDEX ux ON ${q(table)} (j, a)`,
      `CREATE UNIQUE INDEX ux_filtered ON ${q(table)} (l) WHERE l IS NOT NULL`,
    )
    const source = createSource(url)
    await source.open()
    const schema = await source.describe(table).finally(() => source.close())
    t.deepEqual(
      Object.fromEntries(schema.columns.map((c) => [c.name, [c.nativeType, c.type, c.precision, c.scale, c.nullable]])),
      {
        a: ['tinyint', 'integer', undefined, undefined, true],
        b: ['int', 'integer', undefined, undefined, false],
        c: ['bigint', 'bigint', undefined, undefined, false],
        d: ['decimal(38,28)', 'decimal', 38, 28, true],
        e: ['money', 'decimal', 19, 4, true],
        f: ['real', 'float', 24, undefined, true],
        g: ['float', 'float', undefined, undefined, true],
        h: ['bit', 'boolean', undefined, undefined, true],
        i: ['nchar(3)', 'text', undefined, undefined, true],
        j: ['nvarchar(10)', 'text', undefined, undefined, true],
        k: ['nvarchar(max)', 'text', undefined, undefined, true],
        l: ['varchar(20)', 'text', undefined, undefined, true],
        m: ['date', 'date', undefined, undefined, true],
        n: ['datetime2(3)', 'timestamp', undefined, 3, true],
        o: ['datetime', 'timestamp', undefined, 3, true],
        p: ['datetimeoffset(7)', 'timestamptz', undefined, 7, true],
        q: ['varbinary(max)', 'bytes', undefined, undefined, true],
        r: ['uniqueidentifier', 'uuid', undefined, undefined, true],
        s: ['time(7)', 'text', undefined, undefined, true],
      },
    )
    t.deepEqual(schema.primaryKey, ['c', 'b'])
    t.deepEqual(schema.uniqueKeys, [['c', 'b'], ['j', 'a']], 'a filtered index does not make its columns unique')
  })

  test('mssql: decimals of 38 digits and datetime2 to 100 ns move SQLite → SQL Server → SQL Server → SQLite exactly', async (t) => {
    const dir = tempDir()
    const file = join(dir, 'exact.db')
    exec(file, `CREATE TABLE exact (id INTEGER PRIMARY KEY, amount DECIMAL_TEXT(38,10), at TEXT);
      INSERT INTO exact VALUES (1, '9999999999999999999999999999.9999999999', '2024-02-29 23:59:59.1234567'), (2, '-0.0000000001', '0001-01-01 00:00:00'), (3, '1234567890123456789012345678.1234567890', '9999-12-31 23:59:59.9999999')`)
    const hops = [
      [`sqlite:${file}`, url, 'exact', `${run}_exact_a`],
      [url, url, `${run}_exact_a`, `${run}_exact_b`],
      [url, `sqlite:${join(dir, 'back.db')}`, `${run}_exact_b`, 'exact'],
    ] as const
    for (const [source, target, sourceTable, targetTable] of hops) {
      // The SQLite column `at` is text; carried into a datetime2(7) column by a table made first.
      if (targetTable === `${run}_exact_a`) await sql(`CREATE TABLE ${q(targetTable)} (id bigint PRIMARY KEY, amount decimal(38,10), at datetime2(7))`)
      const result = await runPipeline(testSettings(dir, { source, target, sourceTable, targetTable, validate: 'checksum' }))
      t.is(result.status, 'SUCCESS', `${sourceTable} → ${targetTable}: ${result.error?.message ?? JSON.stringify(result.validation)}`)
    }
    const [row] = await sql(`SELECT CONVERT(varchar(50), amount) AS amount, CONVERT(varchar(27), at, 121) AS at FROM ${q(`${run}_exact_b`)} WHERE id = 1`)
    t.deepEqual(row, { amount: '9999999999999999999999999999.9999999999', at: '2024-02-29 23:59:59.1234567' })
  })

  test('mssql: truncate of a table that foreign keys reference is refused, naming them', async (t) => {
    const [parent, child] = [`${run}_parent`, `${run}_xchild`]
    await sql(`CREATE TABLE ${q(parent)} (id int PRIMARY KEY)`, `CREATE TABLE ${q(child)} (id int PRIMARY KEY, parent int REFERENCES ${q(parent)} (id))`)
    const dir = tempDir()
    exec(join(dir, 's.db'), 'CREATE TABLE p (id INTEGER PRIMARY KEY); INSERT INTO p VALUES (1)')
    const result = await runPipeline(testSettings(dir, { source: `sqlite:${join(dir, 's.db')}`, target: url, sourceTable: 'p', targetTable: parent, writeMode: 'truncate' }))
    t.is(result.status, 'FAILED')
    t.regex(result.error!.message, new RegExp(`cannot be emptied, a foreign key of \`${child}\` references it`))
  })
}
