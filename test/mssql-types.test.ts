// SQL Server types both ways (catalog → logical, logical → DDL → catalog → logical), the exact
// TDS encoders checked against tedious' own where tedious is exact and against the MS-TDS layout
// where it is not, the checks of values a column cannot hold, and the decoding of what is read.
import { describeTable, mssqlType, markerOf, rowDecoder } from '../src/engines/mssql-schema.js'
import { ExactDate, ExactDateTime2, ExactDateTimeOffset, ExactDecimal, ExactTime, type TdsType } from '../src/engines/mssql-tds.js'
import { codecFor } from '../src/engines/mssql-values.js'
import type { ColumnInfo, Row } from '../src/types.js'
import { catalogColumn, tediousTypes } from './fixtures/fake-mssql.js'
import { fixtureSchema, logicalShape } from './fixtures/types.js'
import { withDrivers } from './drivers.js'

const test = withDrivers('mssql')

const options = { useUTC: true, tdsVersion: '7_4' }

/** The bytes a type writes for a value: length prefix, then data, as in a bulk-load row. */
function wire(type: TdsType, value: unknown, sizes: { precision?: number; scale?: number; length?: number } = {}): string {
  const p = { ...sizes, value: type.validate(value, undefined, options) }
  return Buffer.concat([type.generateParameterLength(p, options), ...type.generateParameterData(p, options)]).toString('hex')
}

test('decimal: the same bytes as tedious where a double is exact, every digit at 28 and more', (t) => {
  for (const [value, precision, scale] of [
    ['0', 5, 0],
    ['123.45', 9, 2],
    ['-123.45', 9, 2],
    ['9007199254740991', 19, 0],
    ['1234567.891', 28, 3],
    ['-42', 38, 0],
  ] as const) {
    t.is(wire(ExactDecimal, value, { precision, scale }), wire(tediousTypes().Decimal!, Number(value), { precision, scale }), `${value} (${precision},${scale})`)
  }
  const le = (n: bigint, bytes: number) => {
    const b = Buffer.alloc(bytes)
    for (let i = 0; n > 0n; i++, n >>= 8n) b[i] = Number(n & 0xffn)
    return b.toString('hex')
  }
  t.is(wire(ExactDecimal, '12345678901234567890.1234567890', { precision: 30, scale: 10 }), `1101${le(123456789012345678901234567890n, 16)}`)
  t.is(wire(ExactDecimal, '9'.repeat(38), { precision: 38, scale: 0 }), `1101${le(10n ** 38n - 1n, 16)}`)
  t.is(wire(ExactDecimal, `-0.${'0'.repeat(27)}1`, { precision: 38, scale: 28 }), `1100${le(1n, 16)}`, 'negative: sign byte 0')
  t.is(wire(ExactDecimal, '1.5e20', { precision: 28, scale: 2 }), `0d01${le(15000000000000000000000n, 12)}`, 'an exponent is shifted exactly')
  t.is(wire(ExactDecimal, '2.50', { precision: 5, scale: 1 }), `0501${le(25n, 4)}`, 'trailing zeros beyond the scale are no loss')
  t.throws(() => wire(ExactDecimal, '1.25', { precision: 5, scale: 1 }), { message: '1.25 has more than 1 digits after the point' })
  t.throws(() => wire(ExactDecimal, '123456', { precision: 5, scale: 1 }), { message: '123456 has more than 4 digits before the point' })
  t.is(wire(ExactDecimal, null, { precision: 30, scale: 10 }), '00')
})

test('date, datetime2, datetimeoffset and time: tedious’ bytes at millisecond precision, exact to 100 ns beyond it', (t) => {
  for (const day of ['0001-01-01', '1969-07-20', '2024-02-29', '9999-12-31']) {
    t.is(wire(ExactDate, day), wire(tediousTypes().Date!, new Date(`${day}T00:00:00Z`)), day)
  }
  for (const [text, scale] of [['1969-07-20 20:17:40.123', 7], ['2024-02-29 23:59:59.999', 3], ['0001-01-01 00:00:00', 0]] as const) {
    const date = new Date(`${text.replace(' ', 'T')}Z`)
    t.is(wire(ExactDateTime2, text, { scale }), wire(tediousTypes().DateTime2!, date, { scale }), `${text} (${scale})`)
  }
  // 23:59:59.9999999 is 863999999999 units of 100 ns (5 bytes), 2024-02-29 is day 738944 (3 bytes).
  const units = Buffer.alloc(5)
  units.writeUIntLE(863_999_999_999, 0, 5)
  const day = Buffer.alloc(3)
  day.writeUIntLE(738_944, 0, 3)
  t.is(wire(ExactDateTime2, '2024-02-29 23:59:59.9999999', { scale: 7 }), `08${units.toString('hex')}${day.toString('hex')}`)
  t.is(wire(ExactDateTimeOffset, '2024-03-01T05:29:59.9999999+05:30', { scale: 7 }), `0a${units.toString('hex')}${day.toString('hex')}0000`, 'stored in UTC, offset 0')
  t.is(wire(ExactTime, '23:59:59.9999999', { scale: 7 }), `05${units.toString('hex')}`)
  t.throws(() => wire(ExactDateTime2, '2024-02-29 23:59:59.12345678', { scale: 7 }), { message: 'the time has more than 7 digits after the point' })
  t.throws(() => wire(ExactDate, '2023-02-29'), { message: /is not a date SQL Server holds/ })
})

const catalog = [
  catalogColumn('ti', 'tinyint'),
  catalogColumn('i', 'int', { nullable: false }),
  catalogColumn('bi', 'bigint'),
  catalogColumn('bit', 'bit'),
  catalogColumn('d', 'decimal', { precision: 38, scale: 28 }),
  catalogColumn('m', 'money'),
  catalogColumn('f', 'float'),
  catalogColumn('r', 'real'),
  catalogColumn('day', 'date'),
  catalogColumn('ts', 'datetime2', { scale: 3 }),
  catalogColumn('old', 'datetime'),
  catalogColumn('tz', 'datetimeoffset', { scale: 7 }),
  catalogColumn('vc', 'varchar', { max_length: 30, code_page: 1252 }),
  catalogColumn('nvc', 'nvarchar', { max_length: 40 }),
  catalogColumn('nmax', 'nvarchar', { max_length: -1 }),
  catalogColumn('vb', 'varbinary', { max_length: -1 }),
  catalogColumn('u', 'uniqueidentifier'),
  catalogColumn('x', 'xml'),
  catalogColumn('g', 'geography'),
  catalogColumn('j', 'nvarchar', { max_length: -1, marker: 'json' }),
  catalogColumn('wide', 'nvarchar', { max_length: 104, marker: 'decimal(50,10)' }),
]

test('catalog → logical types: every SQL Server type, sizes and markers', async (t) => {
  const answer = async (sql: string) => (sql.includes('sys.columns c\nLEFT JOIN') ? catalog : sql.includes('sys.indexes') ? [{ index_id: 1, is_primary_key: true, col: 'i' }] : [])
  const { schema, details } = (await describeTable(answer, 't'))!
  const shape = Object.fromEntries(schema.columns.map((c) => [c.name, [c.nativeType, c.type, c.precision, c.scale]]))
  t.deepEqual(shape, {
    ti: ['tinyint', 'integer', undefined, undefined],
    i: ['int', 'integer', undefined, undefined],
    bi: ['bigint', 'bigint', undefined, undefined],
    bit: ['bit', 'boolean', undefined, undefined],
    d: ['decimal(38,28)', 'decimal', 38, 28],
    m: ['money', 'decimal', 19, 4],
    f: ['float', 'float', undefined, undefined],
    r: ['real', 'float', 24, undefined],
    day: ['date', 'date', undefined, undefined],
    ts: ['datetime2(3)', 'timestamp', undefined, 3],
    old: ['datetime', 'timestamp', undefined, 3],
    tz: ['datetimeoffset(7)', 'timestamptz', undefined, 7],
    vc: ['varchar(30)', 'text', undefined, undefined],
    nvc: ['nvarchar(20)', 'text', undefined, undefined],
    nmax: ['nvarchar(max)', 'text', undefined, undefined],
    vb: ['varbinary(max)', 'bytes', undefined, undefined],
    u: ['uniqueidentifier', 'uuid', undefined, undefined],
    x: ['xml', 'text', undefined, undefined],
    g: ['geography', 'text', undefined, undefined],
    j: ['nvarchar(max)', 'json', undefined, undefined],
    wide: ['nvarchar(52)', 'decimal', 50, 10],
  })
  t.deepEqual(schema.primaryKey, ['i'])
  t.is(details.get('vc')?.codePage, 1252)
})

/** What SQL Server's catalog says of a column created with this DDL type. */
function created(name: string, ddl: string, marker?: string): Row {
  const m = /^(\w+)(?:\((\d+|max)(?:,(\d+))?\))?/.exec(ddl)!
  const [type, size, scale] = [m[1]!, m[2], m[3]]
  const length = size === 'max' ? -1 : Number(size ?? 0)
  return catalogColumn(name, type, {
    max_length: type.startsWith('n') ? length * (length === -1 ? 1 : 2) : length,
    ...(type === 'decimal' && { precision: Number(size), scale: Number(scale) }),
    ...(type === 'datetime2' || type === 'datetimeoffset' ? { scale: Number(size) } : {}),
    ...(marker && { marker }),
  })
}

test('logical → SQL Server → logical: the fixture’s every type comes back as it went', async (t) => {
  const schema = fixtureSchema('t')
  const ddl = schema.columns.map((c) => [c.name, mssqlType(c, c.name === 'id'), markerOf(c, c.name === 'id')] as const)
  t.deepEqual(Object.fromEntries(ddl.map(([n, type]) => [n, type])), {
    id: 'bigint',
    i32: 'int',
    i64: 'bigint',
    amount: 'decimal(30,10)',
    flt: 'float',
    flag: 'bit',
    day: 'date',
    ts: 'datetime2(7)',
    tstz: 'datetimeoffset(7)',
    select: 'nvarchar(max) COLLATE Latin1_General_100_BIN2',
    'we"ird col': 'nvarchar(20) COLLATE Latin1_General_100_BIN2',
    doc: 'nvarchar(max) COLLATE Latin1_General_100_BIN2',
    blob: 'varbinary(max)',
    uid: 'uniqueidentifier',
  })
  const answer = async (sql: string) => (sql.includes('sys.extended_properties') ? ddl.map(([n, type, marker]) => created(n, type, marker)) : [])
  const back = (await describeTable(answer, 't'))!.schema
  const withoutScale = (s: typeof back) => logicalShape(s)
  t.deepEqual(withoutScale(back), withoutScale(schema))
  t.is(mssqlType({ name: 'k', nativeType: 'text', type: 'text', nullable: false }, true), 'nvarchar(450) COLLATE Latin1_General_100_BIN2', 'a key fits an index')
  t.is(mssqlType({ name: 'n', nativeType: 'numeric', type: 'decimal', nullable: true }, false), 'decimal(38,10)', 'an unconstrained decimal')
})

const column = (nativeType: string, type: ColumnInfo['type'] = 'text'): ColumnInfo => ({ name: 'c', nativeType, type, nullable: true })

test('what a column cannot hold exactly is said before anything is sent', (t) => {
  const check = (nativeType: string, value: unknown, codePage?: number, type?: ColumnInfo['type']) =>
    codecFor(column(nativeType, type), codePage === undefined ? undefined : { identity: false, codePage }).check(value)
  t.is(check('tinyint', 256), '256 is not an integer from 0 to 255')
  t.is(check('int', 1.5), '1.5 is not an integer from -2147483648 to 2147483647', 'tedious would send 1')
  t.is(check('bigint', 2n ** 63n), '9223372036854775808 is not an integer from -9223372036854775808 to 9223372036854775807')
  t.is(check('bit', 'false'), '"false" is not a boolean', 'tedious would send a truthy string as 1')
  t.is(check('float', Number.NaN), "NaN is not a finite number (SQL Server's float holds no NaN or infinity)")
  t.is(check('decimal(5,2)', '123.456'), '123.456 has more than 2 digits after the point (the column is decimal(5,2))')
  t.is(check('nvarchar(3)', '🚀🚀'), 'the value is 4 UTF-16 units long, more than the 3 the column holds')
  t.is(check('nchar(3)', 'ab'), '"ab" is not 3 characters long (char(3) pads shorter values with spaces)')
  t.is(check('varchar(10)', 'café', 1252), undefined, 'é is in code page 1252')
  t.regex(check('varchar(10)', 'łódź', 1252)!, /the character "ł" \(U\+0142\) is not in the column's code page 1252, which would store `\?` for it \(use nvarchar\)/)
  t.is(check('varchar(10)', 'łódź', 1250), undefined, 'and in 1250')
  t.is(check('varchar(4)', 'łódź', 65001), 'the value is 7 bytes long, more than the 4 the column holds', 'UTF-8 collations count bytes')
  t.is(check('binary(4)', Buffer.from([1, 2])), 'the value is 2 bytes long and binary(4) pads shorter values with zeros')
  t.is(check('datetime', '2024-01-01 10:00:00.001', undefined, 'timestamp'), "2024-01-01 10:00:00.001 is more precise than datetime's 1/300 s (.000, .003, .007)")
  t.is(check('datetime', '2024-01-01 10:00:00.997', undefined, 'timestamp'), undefined)
  t.is(check('smalldatetime', '2024-01-01 10:00:30', undefined, 'timestamp'), '2024-01-01 10:00:30 has seconds, which smalldatetime rounds to the minute')
  t.is(check('uniqueidentifier', 'not-a-uuid', undefined, 'uuid'), '"not-a-uuid" is not a UUID')
  t.is(check('geometry', 'POINT(1 2)'), 'ferry does not write SQL Server `geometry` columns')
})

test('values read are decoded into the shared forms', (t) => {
  const schema = {
    table: 't',
    primaryKey: [],
    uniqueKeys: [],
    columns: [column('bigint', 'bigint'), column('decimal(30,10)', 'decimal'), column('datetime2(7)', 'timestamp'), column('datetimeoffset(7)', 'timestamptz'), column('uniqueidentifier', 'uuid'), column('nvarchar(max)', 'json')].map(
      (c, i) => ({ ...c, name: `c${i}` }),
    ),
  }
  const row: Row = {
    c0: '9223372036854775807',
    c1: '-0.0000000001',
    c2: '2024-02-29 23:59:59.9999990',
    c3: '2020-06-01 06:30:00.0000000 +00:00',
    c4: 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
    c5: '{"a":[1,2]}',
  }
  rowDecoder(schema)(row)
  t.deepEqual(row, {
    c0: 9223372036854775807n,
    c1: '-0.0000000001',
    c2: '2024-02-29 23:59:59.999999',
    c3: '2020-06-01T06:30:00Z',
    c4: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    c5: { a: [1, 2] },
  })
})
