// Oracle against a real server: runs when FERRY_TEST_ORACLE_URL points at one (see
// test/servers.ts), and is skipped with one line otherwise. No server could be installed where
// ferry is built; these tests were written against the documented behaviour and have not run.
import { join } from 'node:path'
import test from 'ava'
import { createSource } from '../sources/oracle.js'
import type { OracleConnection } from '../src/engines/oracle-connection.js'
import { runPipeline } from '../src/run.js'
import type { Row, TableSchema } from '../src/types.js'
import { exec, query, tempDir, testSettings } from './helpers.js'
import { type ExternalDb, serverSuite } from './external-suite.js'
import { externalServer } from './servers.js'

const url = externalServer('oracle')

/** Runs statements on the server through ferry's own connection, each committed; returns the last one's rows. */
async function sql(...statements: string[]) {
  const source = createSource(url!)
  await source.open()
  const connection = source.connection as OracleConnection
  try {
    let rows: Row[] = []
    for (const s of statements) rows = (await (await connection.session()).execute(s, [], { ...connection.queryOptions(), autoCommit: true })).rows ?? []
    return rows
  } finally {
    await source.close()
  }
}

const q = (name: string) => `"${name}"`

/** The fixture as Oracle can hold it: no `"` in a column name, no empty string or zero bytes (Oracle stores them as NULL). */
const empty = (v: unknown) => (v === '' || (Buffer.isBuffer(v) && v.length === 0) ? null : v)
const fixture = {
  transform: ({ 'we"ird col': weird, ...row }: Row): Row => ({ ...Object.fromEntries(Object.entries(row).map(([k, v]) => [k, empty(v)])), 'weird col': empty(weird) }),
  rows: (row: Row): Row => fixture.transform(row),
  // The renamed column is typed from its values (its source column's values differ: '' became NULL), so it has no length.
  schema: (schema: TableSchema): TableSchema => ({
    ...schema,
    columns: [
      ...schema.columns.filter((c) => c.name !== 'we"ird col'),
      { name: 'weird col', nativeType: 'computed text', type: 'text', nullable: true },
    ],
  }),
}

if (url) {
  const db: ExternalDb = {
    name: 'oracle',
    url,
    sql,
    q,
    series: (count) => `(SELECT LEVEL - 1 AS n FROM dual CONNECT BY LEVEL <= ${count}) s`,
    concat: (a, b) => `${a} || ${b}`,
    int: 'NUMBER(10)',
    text: (length) => `VARCHAR2(${length} CHAR)`,
    dropTables: async (prefix) => {
      const tables = await sql(`SELECT table_name AS "t" FROM user_tables WHERE table_name LIKE '${prefix.replaceAll("'", "''")}%' ORDER BY table_name DESC`)
      for (const { t } of tables) await sql(`DROP TABLE ${q(String(t))} PURGE`)
    },
    fixture,
  }
  serverSuite(db)
  const run = `o${process.pid.toString(36)}${Date.now().toString(36)}`
  test.after.always(async () => {
    await db.dropTables(run)
    await db.dropTables(run.toUpperCase())
  })

  test('oracle: describe reads NUMBER by precision and scale, CHAR semantics, timestamps, LOBs and the keys', async (t) => {
    const table = `${run}_describe`
    await sql(
      `CREATE TABLE ${q(table)} ("a" NUMBER(9), "b" NUMBER(18) NOT NULL, "c" NUMBER NOT NULL, "d" NUMBER(38,28), "e" INTEGER, "f" BINARY_FLOAT, "g" BINARY_DOUBLE,
        "h" VARCHAR2(10 CHAR), "i" NVARCHAR2(10), "j" CHAR(3 BYTE), "k" CLOB, "l" DATE, "m" TIMESTAMP(6), "n" TIMESTAMP(9) WITH TIME ZONE, "o" RAW(16), "p" BLOB,
        PRIMARY KEY ("c", "b"))`,
      `CREATE UNIQUE INDEX ${q(`${run}_ux`)} ON ${q(table)} ("h", "a")`,
      `CREATE UNIQUE INDEX ${q(`${run}_fx`)} ON ${q(table)} (LOWER("h"))`,
    )
    const source = createSource(url)
    await source.open()
    const schema = await source.describe(table).finally(() => source.close())
    t.deepEqual(
      Object.fromEntries(schema.columns.map((c) => [c.name, [c.nativeType, c.type, c.precision, c.scale, c.nullable]])),
      {
        a: ['NUMBER(9)', 'integer', undefined, undefined, true],
        b: ['NUMBER(18)', 'bigint', undefined, undefined, false],
        c: ['NUMBER', 'decimal', undefined, undefined, false],
        d: ['NUMBER(38,28)', 'decimal', 38, 28, true],
        e: ['NUMBER(*,0)', 'decimal', 38, 0, true],
        f: ['BINARY_FLOAT', 'float', 24, undefined, true],
        g: ['BINARY_DOUBLE', 'float', undefined, undefined, true],
        h: ['VARCHAR2(10 CHAR)', 'text', undefined, undefined, true],
        i: ['NVARCHAR2(10)', 'text', undefined, undefined, true],
        j: ['CHAR(3 BYTE)', 'text', undefined, undefined, true],
        k: ['CLOB', 'text', undefined, undefined, true],
        l: ['DATE', 'timestamp', undefined, 0, true],
        m: ['TIMESTAMP(6)', 'timestamp', undefined, 6, true],
        n: ['TIMESTAMP(9) WITH TIME ZONE', 'timestamptz', undefined, 9, true],
        o: ['RAW(16)', 'bytes', undefined, undefined, true],
        p: ['BLOB', 'bytes', undefined, undefined, true],
      },
    )
    t.deepEqual(schema.primaryKey, ['c', 'b'])
    t.deepEqual(schema.uniqueKeys, [['c', 'b'], ['h', 'a']], 'a function-based index does not make a column unique')
  })

  test("oracle: an empty string is a refused row naming the column, and validation agrees; a transform writing NULL instead loads every row", async (t) => {
    const dir = tempDir()
    const file = join(dir, 'notes.db')
    exec(file, `CREATE TABLE notes (id INTEGER PRIMARY KEY, note TEXT); INSERT INTO notes VALUES (1, 'a'), (2, ''), (3, NULL), (4, 'b')`)
    const base = { source: `sqlite:${file}`, target: url, sourceTable: 'notes', validate: 'checksum' as const, writeMode: 'recreate' as const }
    const refused = await runPipeline(testSettings(dir, { ...base, targetTable: `${run}_notes_a`, onRejectedRow: 'skip' }))
    t.is(refused.status, 'REJECTED_ROWS', refused.error?.message)
    t.is(refused.stats.failed, 1)
    t.true(refused.validation?.passed, 'the refused row is not expected in the target')
    const nulled = await runPipeline(
      testSettings(dir, { ...base, targetTable: `${run}_notes_b`, transform: (r: Row) => ({ ...r, note: r.note === '' ? null : r.note }) }),
    )
    t.is(nulled.status, 'SUCCESS', nulled.error?.message)
    t.is(nulled.validation?.targetCount, 4)
  })

  test('oracle: NUMBER without precision comes out as its exact decimal text, 38 digits', async (t) => {
    const table = `${run}_numbers`
    await sql(
      `CREATE TABLE ${q(table)} ("id" NUMBER(10) PRIMARY KEY, "n" NUMBER)`,
      `INSERT INTO ${q(table)} VALUES (1, 12345678901234567890.123456789012345678)`,
      `INSERT INTO ${q(table)} VALUES (2, -0.000000000000000000000000000000000000000001)`,
      `INSERT INTO ${q(table)} VALUES (3, 1e125)`,
    )
    const dir = tempDir()
    const result = await runPipeline(testSettings(dir, { source: url, target: `sqlite:${join(dir, 'n.db')}`, sourceTable: table, targetTable: 'n', validate: 'checksum' }))
    t.is(result.status, 'SUCCESS', result.error?.message)
    t.deepEqual(query(join(dir, 'n.db'), 'SELECT n FROM n ORDER BY id').map((r) => r.n), [
      '12345678901234567890.123456789012345678',
      '-0.000000000000000000000000000000000000000001',
      `1${'0'.repeat(125)}`,
    ])
  })

  test('oracle: a table created without quotes has an upper-case name, and a pipeline naming it in lower case is told so', async (t) => {
    await sql(`CREATE TABLE ${run}_plain (id NUMBER(10) PRIMARY KEY)`)
    const dir = tempDir()
    const result = await runPipeline(testSettings(dir, { source: url, target: `sqlite:${join(dir, 'p.db')}`, sourceTable: `${run}_plain`.toLowerCase() }))
    t.is(result.status, 'FAILED')
    t.regex(result.error!.message, new RegExp(`but \`${run.toUpperCase()}_PLAIN\` is: Oracle keeps the case of quoted names`))
  })
}
