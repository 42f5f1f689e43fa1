// The statements ferry sends Oracle for every operation, with a hostile table name, hostile column
// names and a composite key, through a stand-in for oracledb (no server here): SQL, binds, bind
// definitions, and what becomes of the rows Oracle refuses by offset (executeMany's batchErrors).
import { OracleSink } from '../sinks/oracle/oracle-sink.js'
import { classifyOracleError, oracleConfig } from '../src/engines/oracle.js'
import { OracleConnection } from '../src/engines/oracle-connection.js'
import { caseVariantsSql, columnsSql, uniqueKeysSql } from '../src/engines/oracle-schema.js'
import { SqlSource } from '../src/engines/sql/sql-source.js'
import type { OracleResult } from '../src/engines/oracle-connection.js'
import type { WriteTarget } from '../src/sink.js'
import type { Row, TableSchema } from '../src/types.js'
import { batchError, fakeOracle, type OracleSent, oracleColumn, oracledb } from './fixtures/fake-oracle.js'
import { withDrivers } from './drivers.js'

const test = withDrivers('oracledb')

const table = 'we]ird t;--'
const q = '"we]ird t;--"'
const columns = [
  oracleColumn('order]', 'NUMBER', { precision: 10, scale: 0, nullable: false, marker: 'ferry:integer' }),
  oracleColumn('line no', 'TIMESTAMP(9)', { scale: 9, nullable: false }),
  oracleColumn('v', 'NUMBER', { precision: 30, scale: 10 }),
  oracleColumn('note', 'VARCHAR2', { chars: 20, unit: 'C', length: 80 }),
  oracleColumn('doc', 'CLOB', { marker: 'ferry:json' }),
  oracleColumn('uid', 'RAW', { length: 16, marker: 'ferry:uuid' }),
]
const keys = [
  { name: 'PK_T', rank: '0', col: 'order]', pos: '1' },
  { name: 'PK_T', rank: '0', col: 'line no', pos: '2' },
  { name: 'PK_T', rank: '2', col: 'order]', pos: '1' },
  { name: 'PK_T', rank: '2', col: 'line no', pos: '2' },
]

function server(options: { exists?: boolean; charset?: string; many?: (sql: string, rows: readonly unknown[][]) => OracleResult; variants?: string[] } = {}) {
  let created = options.exists ?? true
  return fakeOracle((sql) => {
    if (sql === columnsSql) return created ? columns : []
    if (sql === uniqueKeysSql) return created ? keys : []
    if (sql === caseVariantsSql) return (options.variants ?? []).map((name) => ({ name }))
    if (sql.startsWith("SELECT SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA') AS \"schema\"")) return [{ schema: 'APP', charset: options.charset ?? 'AL32UTF8' }]
    if (sql.startsWith('SELECT COUNT(*)')) return [{ n: '3' }]
    if (sql.startsWith('CREATE TABLE')) created = true
    return []
  }, options.many)
}

const connect = (driver: ReturnType<typeof fakeOracle>['driver']) => new OracleConnection(oracleConfig('oracle://scott:tiger@db.local:1521/ORCLPDB1'), async () => driver)
const queries = (sent: OracleSent[]) => sent.filter((s): s is Extract<OracleSent, { sql: string }> => 'sql' in s)
const last = (sent: OracleSent[]) => queries(sent).at(-1)!

test('a session set up for exact reads: NLS formats, binary sort and compare, UTC', async (t) => {
  const { driver, sent } = server()
  await connect(driver).open()
  t.is(
    queries(sent)[0]!.sql,
    "ALTER SESSION SET NLS_DATE_FORMAT = 'YYYY-MM-DD HH24:MI:SS' NLS_TIMESTAMP_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF9' NLS_TIMESTAMP_TZ_FORMAT = 'YYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM' NLS_NUMERIC_CHARACTERS = '.,' NLS_SORT = BINARY NLS_COMP = BINARY TIME_ZONE = '+00:00'",
  )
})

test('count, partitions, pages and lookups: FETCH FIRST, MOD, the expanded key comparison, quoted names, typed binds', async (t) => {
  const { driver, sent } = server()
  const source = new SqlSource(connect(driver), classifyOracleError)
  await source.open()
  t.is(await source.count(table, "\"note\" <> 'x'"), 3)
  t.is(last(sent).sql, `SELECT COUNT(*) AS "n" FROM ${q} WHERE ("note" <> 'x')`)
  t.is(last(sent).options.outFormat, oracledb().OUT_FORMAT_OBJECT)

  await source.partitions({ table, key: ['order]', 'line no'] }, 1000)
  t.is(
    last(sent).sql,
    `SELECT "order]", TO_CHAR("line no", 'SYYYY-MM-DD HH24:MI:SS.FF9') AS "line no" FROM (SELECT "order]", "line no", ROW_NUMBER() OVER (ORDER BY "order]", "line no") AS "ferry_row_number" FROM ${q}) s WHERE MOD("ferry_row_number", :1) = 0 ORDER BY "ferry_row_number"`,
  )

  const partition = { gt: [7, '2020-01-01 00:00:00'], lte: [9, '2021-06-01 12:00:00.123456789'] }
  for await (const _ of source.read({ table, key: ['order]', 'line no'], partition, pageSize: 100 })) t.fail()
  t.is(
    last(sent).sql,
    `SELECT "order]", TO_CHAR("line no", 'SYYYY-MM-DD HH24:MI:SS.FF9') AS "line no", "v", "note", "doc", "uid" FROM ${q} ` +
      `WHERE ("order]" >= :1 AND ("order]" > :2 OR ("order]" = :3 AND ("line no" > :4)))) AND ("order]" <= :5 AND ("order]" < :6 OR ("order]" = :7 AND ("line no" <= :8)))) ` +
      `ORDER BY ${q}."order]", ${q}."line no" FETCH FIRST :9 ROWS ONLY`,
  )
  t.deepEqual(last(sent).binds, [7, 7, 7, '2020-01-01 00:00:00.000000000', 9, 9, 9, '2021-06-01 12:00:00.123456789', 100], 'timestamps in the session format, to the nanosecond')

  const sink = new OracleSink(connect(driver))
  await sink.open()
  const schema = (await sink.describe(table))!
  await sink.lookup({ table, columns: schema.columns, key: ['order]', 'line no'] }, [[1, '2020-01-01 00:00:00'], [2, '2020-01-02 00:00:00.5']])
  t.is(
    last(sent).sql,
    `SELECT "order]", TO_CHAR("line no", 'SYYYY-MM-DD HH24:MI:SS.FF9') AS "line no", "v", "note", "doc", "uid" FROM ${q} WHERE (("order]" = :1 AND "line no" = :2) OR ("order]" = :3 AND "line no" = :4))`,
  )
  t.deepEqual(schema.primaryKey, ['order]', 'line no'])
  t.deepEqual(schema.uniqueKeys, [['order]', 'line no']], 'the key’s own index is not a second key')
})

const logical: TableSchema = {
  table,
  primaryKey: ['order]', 'line no'],
  uniqueKeys: [['order]', 'line no']],
  columns: [
    { name: 'order]', nativeType: 'integer', type: 'integer', nullable: false },
    { name: 'line no', nativeType: 'timestamp', type: 'timestamp', nullable: false },
    { name: 'v', nativeType: 'numeric(30,10)', type: 'decimal', nullable: true, precision: 30, scale: 10 },
    { name: 'note', nativeType: 'varchar(20)', type: 'text', nullable: true },
    { name: 'doc', nativeType: 'jsonb', type: 'json', nullable: true },
    { name: 'uid', nativeType: 'uuid', type: 'uuid', nullable: true },
  ],
}

test('create table: Oracle types, the key, and marker comments where Oracle has no type of its own', async (t) => {
  const { driver, sent } = server({ exists: false })
  const sink = new OracleSink(connect(driver))
  await sink.open()
  await sink.prepare({ table, schema: logical, mode: 'upsert' })
  const ddl = queries(sent).filter((s) => /^(CREATE|COMMENT)/.test(s.sql))
  t.deepEqual(
    ddl.map((s) => s.sql),
    [
      `CREATE TABLE ${q} ("order]" NUMBER(10) NOT NULL, "line no" TIMESTAMP(9) NOT NULL, "v" NUMBER(30,10), "note" VARCHAR2(20 CHAR), "doc" CLOB, "uid" RAW(16), PRIMARY KEY ("order]", "line no"))`,
      `COMMENT ON COLUMN ${q}."order]" IS 'ferry:integer'`,
      `COMMENT ON COLUMN ${q}."doc" IS 'ferry:json'`,
      `COMMENT ON COLUMN ${q}."uid" IS 'ferry:uuid'`,
    ],
  )
  t.true(ddl.every((s) => s.options.autoCommit === true))
  t.is(sink.nameNote(table, ['order]', 'ID']), `Oracle keeps the case of quoted names: "${table}", "order]" are created as written, so SQL must quote them (${q}, not ${table.toUpperCase()}); name them in upper case in the pipeline for names plain SQL can use`)
  t.is(sink.nameNote('USERS', ['ID', 'FULL_NAME']), undefined)
})

test('in a database that is not AL32UTF8, text columns ferry creates are NVARCHAR2 and NCLOB', async (t) => {
  const { driver, sent } = server({ exists: false, charset: 'WE8MSWIN1252' })
  const sink = new OracleSink(connect(driver))
  await sink.open()
  await sink.prepare({ table, schema: logical, mode: 'upsert' })
  t.regex(queries(sent).find((s) => s.sql.startsWith('CREATE'))!.sql, /"note" NVARCHAR2\(20\), "doc" NCLOB/)
})

const rows: Row[] = [
  { 'order]': 1, 'line no': '2024-02-29 23:59:59.123456789', v: '12345678901234567890.1234567890', note: 'é 🚀', doc: { a: [1] }, uid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' },
  { 'order]': 2, 'line no': '1900-01-01 00:00:00', v: '-0.0000000001', note: null, doc: 'a JSON string', uid: null },
]

async function write(kind: 'insert' | 'upsert', batch: Row[], many?: (sql: string, rows: readonly unknown[][]) => OracleResult) {
  const { driver, sent } = server({ ...(many && { many }) })
  const sink = new OracleSink(connect(driver))
  await sink.open()
  const schema = (await sink.describe(table))!
  const target: WriteTarget = { table, columns: schema.columns, key: ['order]', 'line no'] }
  const from = sent.length
  const result = await sink.write(target, batch, kind).catch((err: unknown) => err)
  return { result, sent: sent.slice(from), sink }
}

test('insert: one executeMany with explicit conversions, bind types and sizes, batchErrors, then a commit', async (t) => {
  const { result, sent } = await write('insert', rows)
  t.is(result, undefined)
  const [many, commit] = sent as [Extract<OracleSent, { many: string }>, OracleSent]
  t.is(
    many.many,
    `INSERT INTO ${q} ("order]", "line no", "v", "note", "doc", "uid") VALUES (TO_NUMBER(:1), TO_TIMESTAMP(:2, 'YYYY-MM-DD HH24:MI:SS.FF9'), TO_NUMBER(:3), :4, :5, :6)`,
  )
  t.deepEqual(many.rows, [
    ['1', '2024-02-29 23:59:59.123456789', '12345678901234567890.1234567890', 'é 🚀', '{"a":[1]}', Buffer.from('a0eebc999c0b4ef8bb6d6bb9bd380a11', 'hex')],
    ['2', '1900-01-01 00:00:00.000000000', '-0.0000000001', null, '"a JSON string"', null],
  ])
  t.deepEqual(many.options.bindDefs, [
    { type: oracledb().DB_TYPE_VARCHAR, maxSize: 1 },
    { type: oracledb().DB_TYPE_VARCHAR, maxSize: 29 },
    { type: oracledb().DB_TYPE_VARCHAR, maxSize: 31 },
    { type: oracledb().DB_TYPE_VARCHAR, maxSize: 7 },
    { type: oracledb().DB_TYPE_CLOB },
    { type: oracledb().DB_TYPE_RAW, maxSize: 16 },
  ])
  t.like(many.options, { batchErrors: true, autoCommit: false })
  t.deepEqual(commit, { tx: 'commit' })
})

test('upsert: MERGE on the key from one row’s binds, updating the other written columns', async (t) => {
  const { sent } = await write('upsert', rows)
  t.is(
    (sent[0] as Extract<OracleSent, { many: string }>).many,
    `MERGE INTO ${q} t USING (SELECT TO_NUMBER(:1) AS "order]", TO_TIMESTAMP(:2, 'YYYY-MM-DD HH24:MI:SS.FF9') AS "line no", TO_NUMBER(:3) AS "v", :4 AS "note", :5 AS "doc", :6 AS "uid" FROM dual) s ` +
      `ON (t."order]" = s."order]" AND t."line no" = s."line no") WHEN MATCHED THEN UPDATE SET t."v" = s."v", t."note" = s."note", t."doc" = s."doc", t."uid" = s."uid" ` +
      `WHEN NOT MATCHED THEN INSERT ("order]", "line no", "v", "note", "doc", "uid") VALUES (s."order]", s."line no", s."v", s."note", s."doc", s."uid")`,
  )
})

test('rows refused before sending and rows Oracle refuses by offset come back by their index in the batch; the others are committed', async (t) => {
  const batch: Row[] = [
    { ...rows[0]!, 'order]': 1 },
    { ...rows[0]!, 'order]': 2, note: '' },
    { ...rows[0]!, 'order]': 3 },
    { ...rows[0]!, 'order]': 4, v: '0.12345678901' },
    { ...rows[0]!, 'order]': 5 },
  ]
  // Sent: rows 0, 2 and 4; Oracle refuses its second (offset 1), the row at index 2.
  const { result, sent } = await write('insert', batch, () => ({ rowsAffected: 2, batchErrors: [batchError(1, 'ORA-00001: unique constraint (APP.PK_T) violated')] }))
  const many = sent[0] as Extract<OracleSent, { many: string }>
  t.deepEqual(many.rows.map((r) => r[0]), ['1', '3', '5'])
  t.deepEqual(sent[1], { tx: 'commit' })
  t.deepEqual(
    (result as { rejected: { index: number; error: Error }[] }).rejected.map((r) => [r.index, r.error.message]),
    [
      [1, "column `note` of the row with key (2, '2024-02-29 23:59:59.123456789') cannot hold the value exactly: '' is NULL in Oracle: an empty string would come back as NULL (a transform can write null, or a placeholder, instead)"],
      [2, 'ORA-00001: unique constraint (APP.PK_T) violated'],
      [3, "column `v` of the row with key (4, '2024-02-29 23:59:59.123456789') cannot hold the value exactly: 0.12345678901 has more than 10 digits after the point"],
    ],
  )
})

test('a batch error that is not the row’s fault rolls the batch back, to be retried whole', async (t) => {
  const { result, sent, sink } = await write('insert', rows, () => ({ batchErrors: [batchError(0, 'ORA-00060: deadlock detected while waiting for resource')] }))
  t.deepEqual(sent.at(-1), { tx: 'rollback' })
  t.is((result as Error).message, 'ORA-00060: deadlock detected while waiting for resource')
  t.is(sink.classify(result), 'transient')
})

test('a table whose name differs only in case is named, not silently taken for another or created beside it', async (t) => {
  const { driver } = server({ exists: false, variants: ['USERS'] })
  const sink = new OracleSink(connect(driver))
  await sink.open()
  await t.throwsAsync(sink.describe('users'), {
    message: 'table `users` is not in the Oracle schema, but `USERS` is: Oracle keeps the case of quoted names, and ferry quotes every name (a table created without quotes has an upper-case name); write the name as the schema has it',
  })
})

test('a name with a double quote cannot be an Oracle name, and says so', async (t) => {
  const { driver } = server()
  const source = new SqlSource(connect(driver), classifyOracleError)
  await source.open()
  await t.throwsAsync(source.count('we"ird'), { message: 'identifier "we\\"ird" contains a double quote, which no Oracle name can hold' })
})
