// The statements ferry sends SQL Server for every operation, with a hostile table name, hostile
// column names and a composite key, through a stand-in for the mssql package (no server here):
// what the server would be asked, with each parameter's type, and the bulk loads as tedious
// itself encodes them.
import { MssqlSink } from '../sinks/mssql/mssql-sink.js'
import { classifyMssqlError, mssqlConfig } from '../src/engines/mssql.js'
import { MssqlConnection } from '../src/engines/mssql-connection.js'
import { columnsSql, uniqueKeysSql } from '../src/engines/mssql-schema.js'
import { SqlSource } from '../src/engines/sql/sql-source.js'
import type { WriteTarget } from '../src/sink.js'
import type { Row, TableSchema } from '../src/types.js'
import { catalogColumn, fakeMssql, type Sent } from './fixtures/fake-mssql.js'
import { withDrivers } from './drivers.js'

const test = withDrivers('mssql')

const table = 'we]ird "t";--'
const q = '[we]]ird "t";--]'
const columns = [
  catalogColumn('order]', 'int', { nullable: false }),
  catalogColumn('line no', 'datetime2', { nullable: false, scale: 7, max_length: 8 }),
  catalogColumn('v', 'decimal', { precision: 30, scale: 10, max_length: 17 }),
  catalogColumn('note', 'nvarchar', { max_length: 40 }),
  catalogColumn('doc', 'nvarchar', { max_length: -1, marker: 'json' }),
]
const keys = [
  { index_id: 1, is_primary_key: true, col: 'order]' },
  { index_id: 1, is_primary_key: true, col: 'line no' },
]

function server(exists = true, identity = false) {
  const catalog = identity ? columns.map((c) => (c.name === 'order]' ? { ...c, is_identity: true } : c)) : columns
  let created = exists
  return fakeMssql((sql) => {
    if (sql === columnsSql) return created ? catalog : []
    if (sql === uniqueKeysSql) return created ? keys : []
    if (sql.startsWith('SELECT DB_NAME()')) return [{ db: 'app', s: 'dbo' }]
    if (sql.startsWith('SELECT COUNT(*)')) return [{ n: 3 }]
    if (sql.startsWith('SELECT OBJECT_ID')) return [{ id: created ? 1 : null }]
    if (sql.startsWith('CREATE TABLE')) created = true
    return []
  })
}

const connect = (driver: ReturnType<typeof fakeMssql>['driver']) => new MssqlConnection(mssqlConfig('mssql://sa:pw@db.local/app'), async () => driver)
const statements = (sent: Sent[]) => sent.flatMap((s) => ('sql' in s ? [s.sql] : 'bulk' in s ? [s.bulk] : [s.tx.toUpperCase()]))
const last = (sent: Sent[]) => sent.at(-1) as Extract<Sent, { sql: string }>

test('count, partitions and pages: TOP, the expanded key comparison, bracket quoting, parameters typed as their columns', async (t) => {
  const { driver, sent } = server()
  const source = new SqlSource(connect(driver), classifyMssqlError)
  await source.open()
  t.is(await source.count(table, "note <> 'x'"), 3)
  t.is(last(sent).sql, `SELECT COUNT(*) AS [n] FROM ${q} WHERE (note <> 'x')`)

  await source.partitions({ table, key: ['order]', 'line no'] }, 1000)
  t.is(
    last(sent).sql,
    `SELECT [order]]], CONVERT(varchar(27), [line no], 121) AS [line no] FROM (SELECT [order]]], [line no], ROW_NUMBER() OVER (ORDER BY [order]]], [line no]) AS [ferry_row_number] FROM ${q}) s WHERE [ferry_row_number] % @p1 = 0 ORDER BY [ferry_row_number]`,
  )
  t.deepEqual(last(sent).params, [{ name: 'p1', type: 'Int', value: 1000 }])

  const partition = { gt: [7, '2020-01-01 00:00:00'], lte: [9, '2021-06-01 12:00:00.1234567'] }
  for await (const _ of source.read({ table, key: ['order]', 'line no'], partition, after: [8, '2020-03-01 10:00:00.5'], pageSize: 100 })) t.fail()
  t.is(
    last(sent).sql,
    `SELECT TOP (@p9) [order]]], CONVERT(varchar(27), [line no], 121) AS [line no], CONVERT(varchar(50), [v]) AS [v], [note], [doc] FROM ${q} ` +
      'WHERE ([order]]] >= @p1 AND ([order]]] > @p2 OR ([order]]] = @p3 AND ([line no] > @p4)))) AND ([order]]] <= @p5 AND ([order]]] < @p6 OR ([order]]] = @p7 AND ([line no] <= @p8)))) ' +
      `ORDER BY ${q}.[order]]], ${q}.[line no]`,
  )
  t.deepEqual(
    last(sent).params.map((p) => [p.type, p.value, p.scale]),
    [
      ['Int', 8, undefined],
      ['Int', 8, undefined],
      ['Int', 8, undefined],
      ['ExactDateTime2', '2020-03-01 10:00:00.5', 7],
      ['Int', 9, undefined],
      ['Int', 9, undefined],
      ['Int', 9, undefined],
      ['ExactDateTime2', '2021-06-01 12:00:00.1234567', 7],
      ['Int', 100, undefined],
    ],
    'a datetime2 key is compared to the 100 ns, not through a Date',
  )
})

test('lookups by a composite key stay under 2100 parameters a request', async (t) => {
  const { driver, sent } = server()
  const sink = new MssqlSink(connect(driver))
  await sink.open()
  const schema = (await sink.describe(table))!
  const target: WriteTarget = { table, columns: schema.columns, key: ['order]', 'line no'] }
  await sink.lookup(target, Array.from({ length: 2500 }, (_, i) => [i, '2020-01-01 00:00:00']))
  const lookups = sent.filter((s): s is Extract<Sent, { sql: string }> => 'sql' in s && s.sql.includes(' OR '))
  t.deepEqual(lookups.map((l) => l.params.length), [2000, 2000, 1000])
  t.true(
    lookups[0]!.sql.startsWith(
      `SELECT [order]]], CONVERT(varchar(27), [line no], 121) AS [line no], CONVERT(varchar(50), [v]) AS [v], [note], [doc] FROM ${q} WHERE (([order]]] = @p1 AND [line no] = @p2) OR ([order]]] = @p3 AND [line no] = @p4) OR `,
    ),
  )
  t.true(lookups[0]!.sql.endsWith('OR ([order]]] = @p1999 AND [line no] = @p2000))'))
})

const plan = (schema: TableSchema) => ({ table, schema, mode: 'upsert' as const })
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
  ],
}

test('create table: SQL Server types, the key, binary collation, and a marker for JSON', async (t) => {
  const { driver, sent } = server(false)
  const sink = new MssqlSink(connect(driver))
  await sink.open()
  await sink.prepare(plan(logical))
  const created = sent.filter((s): s is Extract<Sent, { sql: string }> => 'sql' in s && !s.sql.startsWith('SELECT') && !s.sql.startsWith('DECLARE @s'))
  t.deepEqual(
    created.map((s) => s.sql),
    [
      `CREATE TABLE ${q} ([order]]] int NOT NULL, [line no] datetime2(7) NOT NULL, [v] decimal(30,10), [note] nvarchar(20) COLLATE Latin1_General_100_BIN2, [doc] nvarchar(max) COLLATE Latin1_General_100_BIN2, PRIMARY KEY ([order]]], [line no]))`,
    ],
  )
  const marker = sent.find((s): s is Extract<Sent, { sql: string }> => 'sql' in s && s.sql.includes('sp_addextendedproperty'))!
  t.deepEqual(marker.params.map((p) => p.value), ['json', table, 'doc'], 'names go as parameters, never into the text')
  t.deepEqual(statements(sent).filter((s) => /^(BEGIN|COMMIT)$/.test(s)), ['BEGIN', 'COMMIT'], 'one transaction')
})

const rows: Row[] = [
  { 'order]': 1, 'line no': '2024-02-29 23:59:59.9999999', v: '12345678901234567890.1234567890', note: 'é ü 🚀', doc: { a: [1, 'x'] } },
  { 'order]': 2, 'line no': '1900-01-01 00:00:00', v: '-0.0000000001', note: null, doc: 'a JSON string' },
]

async function written(kind: 'insert' | 'upsert', identity = false) {
  const { driver, sent } = server(true, identity)
  const sink = new MssqlSink(connect(driver))
  await sink.open()
  const schema = (await sink.describe(table))!
  const result = await sink.write({ table, columns: schema.columns, key: ['order]', 'line no'] }, rows, kind)
  const from = sent.findIndex((s) => 'tx' in s && s.tx === 'begin')
  return { result, sent: sent.slice(from) }
}

const bulkSql = `([order]]] int, [line no] datetime2(7), [v] decimal(30, 10), [note] nvarchar(20), [doc] nvarchar(max)) WITH (CHECK_CONSTRAINTS,FIRE_TRIGGERS,KEEP_NULLS)`

test('insert: one bulk load in one transaction, names quoted in the statement and sent as they are in the metadata', async (t) => {
  const { result, sent } = await written('insert')
  t.is(result, undefined)
  t.deepEqual(statements(sent), ['BEGIN', `insert bulk ${q}${bulkSql}`, 'COMMIT'])
  const load = sent[1] as Extract<Sent, { bulk: string }>
  t.deepEqual(load.rows, [
    [1, '2024-02-29 23:59:59.9999999', '12345678901234567890.1234567890', 'é ü 🚀', '{"a":[1,"x"]}'],
    [2, '1900-01-01 00:00:00', '-0.0000000001', null, '"a JSON string"'],
  ])
  t.true(load.payload.includes(Buffer.from('order]', 'ucs2')), 'the column metadata names `order]` itself')
  // decimal(30, 10) on the wire: 17 bytes, sign 1, then 123456789012345678901234567890 little-endian.
  const digits = Buffer.alloc(16)
  let v = 123456789012345678901234567890n
  for (let i = 0; v > 0n; i++, v >>= 8n) digits[i] = Number(v & 0xffn)
  t.true(load.payload.includes(Buffer.concat([Buffer.from([17, 1]), digits])), 'all 30 digits are on the wire')
})

test('upsert: a bulk load into a session temp table, then UPDATE and INSERT in the same transaction', async (t) => {
  const { sent } = await written('upsert')
  const stage = (statements(sent)[1]!.match(/#ferry_stage_[0-9a-f]{16}/) ?? [''])[0]
  const cols = '[order]]], [line no], [v], [note], [doc]'
  t.deepEqual(statements(sent), [
    'BEGIN',
    `DROP TABLE IF EXISTS ${stage}; SELECT TOP (0) ${cols} INTO ${stage} FROM ${q} UNION ALL SELECT TOP (0) ${cols} FROM ${q};`,
    `insert bulk ${stage}${bulkSql}`,
    `UPDATE t SET t.[v] = s.[v], t.[note] = s.[note], t.[doc] = s.[doc] FROM ${q} AS t INNER JOIN ${stage} AS s ON t.[order]]] = s.[order]]] AND t.[line no] = s.[line no]; ` +
      `INSERT INTO ${q} (${cols}) SELECT s.[order]]], s.[line no], s.[v], s.[note], s.[doc] FROM ${stage} AS s WHERE NOT EXISTS (SELECT 1 FROM ${q} AS t WITH (UPDLOCK, HOLDLOCK) WHERE t.[order]]] = s.[order]]] AND t.[line no] = s.[line no]);`,
    'COMMIT',
  ])
})

test('rows carrying an IDENTITY column go through the stage with IDENTITY_INSERT, which a bulk load cannot do', async (t) => {
  const { sent } = await written('insert', true)
  const list = statements(sent)
  t.regex(list[2]!, /^insert bulk #ferry_stage_/)
  t.regex(list[3]!, new RegExp(`^SET IDENTITY_INSERT \\[we\\]\\]ird "t";--\\] ON; INSERT INTO .* SET IDENTITY_INSERT \\[we\\]\\]ird "t";--\\] OFF;$`))
})

test('rows a column cannot hold are left out of the load and reported by index, naming the column and key', async (t) => {
  const { driver, sent } = server()
  const sink = new MssqlSink(connect(driver))
  await sink.open()
  const schema = (await sink.describe(table))!
  const batch: Row[] = [
    { ...rows[0]!, 'order]': 1 },
    { ...rows[0]!, 'order]': 2, note: 'x'.repeat(21) },
    { ...rows[0]!, 'order]': 3, v: '1.00000000001' },
    { ...rows[0]!, 'order]': 4, 'line no': '2024-01-01 00:00:00.12345678' },
    { ...rows[0]!, 'order]': 5 },
  ]
  const result = await sink.write({ table, columns: schema.columns, key: ['order]', 'line no'] }, batch, 'insert')
  t.deepEqual(
    result?.rejected.map((r) => [r.index, (r.error as Error).message]),
    [
      [1, "column `note` of the row with key (2, '2024-02-29 23:59:59.9999999') cannot hold the value exactly: the value is 21 UTF-16 units long, more than the 20 the column holds"],
      [2, "column `v` of the row with key (3, '2024-02-29 23:59:59.9999999') cannot hold the value exactly: 1.00000000001 has more than 10 digits after the point"],
      [3, "column `line no` of the row with key (4, '2024-01-01 00:00:00.12345678') cannot hold the value exactly: 2024-01-01 00:00:00.12345678 is more precise than 100 nanoseconds"],
    ],
  )
  const load = sent.find((s): s is Extract<Sent, { bulk: string }> => 'bulk' in s)!
  t.deepEqual(load.rows.map((r) => r[0]), [1, 5])
})
