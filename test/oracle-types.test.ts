// Oracle types both ways (catalog → logical, logical → DDL → catalog → logical), the decoding of
// what oracledb hands over, and the binds: what a column cannot hold, and the text each value is
// converted from with an explicit format.
import test from 'ava'
import { describeTable, decimalText, oracleType, rowDecoder } from '../src/engines/oracle-schema.js'
import { bindFor, paramValue, utcText } from '../src/engines/oracle-values.js'
import type { ColumnInfo, Row } from '../src/types.js'
import { oracleColumn } from './fixtures/fake-oracle.js'
import { fixtureSchema, logicalShape } from './fixtures/types.js'

const catalog = [
  oracleColumn('I9', 'NUMBER', { precision: 9, scale: 0, nullable: false }),
  oracleColumn('I18', 'NUMBER', { precision: 18, scale: 0 }),
  oracleColumn('I38', 'NUMBER', { precision: 38, scale: 0 }),
  oracleColumn('INT', 'NUMBER', { scale: 0 }),
  oracleColumn('N', 'NUMBER'),
  oracleColumn('D', 'NUMBER', { precision: 30, scale: 10 }),
  oracleColumn('NEG', 'NUMBER', { precision: 5, scale: -2 }),
  oracleColumn('F', 'FLOAT', { precision: 126 }),
  oracleColumn('BD', 'BINARY_DOUBLE'),
  oracleColumn('BF', 'BINARY_FLOAT'),
  oracleColumn('DT', 'DATE'),
  oracleColumn('TS', 'TIMESTAMP(6)'),
  oracleColumn('TZ', 'TIMESTAMP(9) WITH TIME ZONE'),
  oracleColumn('LTZ', 'TIMESTAMP(3) WITH LOCAL TIME ZONE'),
  oracleColumn('VC', 'VARCHAR2', { chars: 20, unit: 'C' }),
  oracleColumn('VB', 'VARCHAR2', { chars: 20, unit: 'B' }),
  oracleColumn('NVC', 'NVARCHAR2', { chars: 10 }),
  oracleColumn('C', 'CLOB'),
  oracleColumn('R', 'RAW', { length: 32 }),
  oracleColumn('B', 'BLOB'),
  oracleColumn('J', 'JSON'),
  oracleColumn('BOOL', 'BOOLEAN'),
  oracleColumn('IV', 'INTERVAL DAY(2) TO SECOND(6)'),
]

test('catalog → logical types: every Oracle type, NUMBER by its precision and scale', async (t) => {
  const schema = (await describeTable(async (sql) => (sql.includes('all_tab_columns') ? catalog : []), 'T'))!
  const shape = Object.fromEntries(schema.columns.map((c) => [c.name, [c.nativeType, c.type, c.precision, c.scale]]))
  t.deepEqual(shape, {
    I9: ['NUMBER(9)', 'integer', undefined, undefined],
    I18: ['NUMBER(18)', 'bigint', undefined, undefined],
    I38: ['NUMBER(38)', 'decimal', 38, 0],
    INT: ['NUMBER(*,0)', 'decimal', 38, 0],
    N: ['NUMBER', 'decimal', undefined, undefined],
    D: ['NUMBER(30,10)', 'decimal', 30, 10],
    NEG: ['NUMBER(5,-2)', 'decimal', undefined, undefined],
    F: ['FLOAT(126)', 'decimal', undefined, undefined],
    BD: ['BINARY_DOUBLE', 'float', undefined, undefined],
    BF: ['BINARY_FLOAT', 'float', 24, undefined],
    DT: ['DATE', 'timestamp', undefined, 0],
    TS: ['TIMESTAMP(6)', 'timestamp', undefined, 6],
    TZ: ['TIMESTAMP(9) WITH TIME ZONE', 'timestamptz', undefined, 9],
    LTZ: ['TIMESTAMP(3) WITH LOCAL TIME ZONE', 'timestamptz', undefined, 3],
    VC: ['VARCHAR2(20 CHAR)', 'text', undefined, undefined],
    VB: ['VARCHAR2(20 BYTE)', 'text', undefined, undefined],
    NVC: ['NVARCHAR2(10)', 'text', undefined, undefined],
    C: ['CLOB', 'text', undefined, undefined],
    R: ['RAW(32)', 'bytes', undefined, undefined],
    B: ['BLOB', 'bytes', undefined, undefined],
    J: ['JSON', 'json', undefined, undefined],
    BOOL: ['BOOLEAN', 'boolean', undefined, undefined],
    IV: ['INTERVAL DAY(2) TO SECOND(6)', 'text', undefined, undefined],
  })
})

/** What Oracle's catalog says of a column created with this DDL type (and ferry's marker comment). */
function created(name: string, ddl: { type: string; marker?: string }): Row {
  const m = /^(\w+)(?:\((\d+)(?:,(\d+))?(?: CHAR)?\))?(.*)$/.exec(ddl.type)!
  const [base, size, scale, rest] = [m[1]!, m[2], m[3], m[4]!]
  const extra = {
    ...(ddl.marker && { marker: `ferry:${ddl.marker}` }),
    ...(base === 'NUMBER' && size !== undefined && { precision: Number(size), scale: Number(scale ?? 0) }),
    ...(base === 'VARCHAR2' && { chars: Number(size), unit: 'C' as const }),
    ...(base === 'RAW' && { length: Number(size) }),
  }
  return oracleColumn(name, base === 'TIMESTAMP' ? `TIMESTAMP(${size})${rest}` : base, extra)
}

test('logical → Oracle → logical: the fixture’s every type comes back as it went', async (t) => {
  const schema = fixtureSchema('t')
  const ddl = schema.columns.map((c) => [c.name, oracleType(c, c.name === 'id')] as const)
  t.deepEqual(Object.fromEntries(ddl), {
    id: { type: 'NUMBER(19)', marker: 'bigint' },
    i32: { type: 'NUMBER(10)', marker: 'integer' },
    i64: { type: 'NUMBER(19)', marker: 'bigint' },
    amount: { type: 'NUMBER(30,10)' },
    flt: { type: 'BINARY_DOUBLE' },
    flag: { type: 'NUMBER(1)', marker: 'boolean' },
    day: { type: 'DATE', marker: 'date' },
    ts: { type: 'TIMESTAMP(9)' },
    tstz: { type: 'TIMESTAMP(9) WITH TIME ZONE' },
    select: { type: 'CLOB' },
    'we"ird col': { type: 'VARCHAR2(20 CHAR)' },
    doc: { type: 'CLOB', marker: 'json' },
    blob: { type: 'BLOB' },
    uid: { type: 'RAW(16)', marker: 'uuid' },
  })
  const back = (await describeTable(async (sql) => (sql.includes('all_tab_columns') ? ddl.map(([n, d]) => created(n, d)) : []), 't'))!
  t.deepEqual(logicalShape(back), logicalShape(schema))
  const text = (length?: number): ColumnInfo => ({ name: 'k', nativeType: length ? `varchar(${length})` : 'text', type: 'text', nullable: false })
  t.deepEqual(oracleType(text(), true), { type: 'VARCHAR2(1000 CHAR)' }, 'a key fits an index: 1000 characters of 4 bytes fill 4000')
  t.deepEqual(oracleType(text(2000), false), { type: 'CLOB' }, 'beyond 1000 characters, a CLOB: a VARCHAR2(2000 CHAR) could not hold 2000 four-byte characters')
  t.deepEqual(oracleType({ name: 'w', nativeType: 'numeric(50,10)', type: 'decimal', nullable: true, precision: 50, scale: 10 }, false), {
    type: 'VARCHAR2(52 CHAR)',
    marker: 'decimal(50,10)',
  }, 'wider than NUMBER: exact as text')
})

test('values read are decoded into the shared forms: NUMBER text, signed dates, UTC instants, RAW(16) UUIDs', (t) => {
  const columns: ColumnInfo[] = [
    { name: 'i', nativeType: 'NUMBER(10)', type: 'integer', nullable: true },
    { name: 'b', nativeType: 'NUMBER(19)', type: 'bigint', nullable: true },
    { name: 'd', nativeType: 'NUMBER(30,10)', type: 'decimal', nullable: true, precision: 30, scale: 10 },
    { name: 'n', nativeType: 'NUMBER', type: 'decimal', nullable: true },
    { name: 'flag', nativeType: 'NUMBER(1)', type: 'boolean', nullable: true },
    { name: 'day', nativeType: 'DATE', type: 'date', nullable: true, scale: 0 },
    { name: 'ts', nativeType: 'TIMESTAMP(9)', type: 'timestamp', nullable: true, scale: 9 },
    { name: 'tz', nativeType: 'TIMESTAMP(9) WITH TIME ZONE', type: 'timestamptz', nullable: true, scale: 9 },
    { name: 'u', nativeType: 'RAW(16)', type: 'uuid', nullable: true },
    { name: 'j', nativeType: 'CLOB', type: 'json', nullable: true },
  ]
  const row: Row = {
    i: '42',
    b: '9223372036854775807',
    d: '-.0000000001',
    n: '.5',
    flag: '1',
    day: ' 2024-02-29 00:00:00',
    ts: ' 2024-02-29 23:59:59.123456780',
    tz: ' 1969-07-20 20:17:40.500000000',
    u: Buffer.from('a0eebc999c0b4ef8bb6d6bb9bd380a11', 'hex'),
    j: '[1,{"a":null}]',
  }
  rowDecoder({ table: 't', columns, primaryKey: [], uniqueKeys: [] })(row)
  t.deepEqual(row, {
    i: 42,
    b: 9223372036854775807n,
    d: '-0.0000000001',
    n: '0.5',
    flag: true,
    day: '2024-02-29',
    ts: '2024-02-29 23:59:59.12345678',
    tz: '1969-07-20T20:17:40.5Z',
    u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    j: [1, { a: null }],
  })
  t.is(decimalText('12345678901234567890.123456789', 10), '12345678901234567890.1234567890', 'padded to the scale, as other engines hand it over')
  t.is(decimalText('0', 10), '0.0000000000')
})

const column = (nativeType: string, type: ColumnInfo['type'] = 'text'): ColumnInfo => ({ name: 'c', nativeType, type, nullable: true })

test('what a column cannot hold exactly is said before anything is sent', (t) => {
  const check = (nativeType: string, value: unknown, type?: ColumnInfo['type'], codePage?: number) => bindFor(column(nativeType, type), codePage).check(value)
  t.is(check('NUMBER(5,2)', '1.234', 'decimal'), '1.234 has more than 2 digits after the point (the column is NUMBER(5,2))')
  t.is(check('NUMBER(10)', 1.5, 'integer'), '1.5 has more than 0 digits after the point (the column is NUMBER(10))', 'NUMBER(10) would round it to 2')
  t.is(check('NUMBER', `1${'2'.repeat(38)}`, 'decimal'), `1${'2'.repeat(38)} has more than the 38 significant digits NUMBER keeps`)
  t.is(check('NUMBER', '1e126', 'decimal'), "1e126 is beyond the range of Oracle's NUMBER")
  t.is(check('NUMBER', '0.000000000000000000000000000000000000000000000000001', 'decimal'), undefined, 'few significant digits, however small')
  t.is(check('NUMBER(*,0)', '1.5', 'decimal'), '1.5 is not an integer (the column is NUMBER(*,0))')
  t.is(check('VARCHAR2(20 CHAR)', ''), "'' is NULL in Oracle: an empty string would come back as NULL (a transform can write null, or a placeholder, instead)")
  t.is(check('CLOB', ''), "'' is NULL in Oracle: an empty string would come back as NULL (a transform can write null, or a placeholder, instead)")
  t.is(check('BLOB', Buffer.alloc(0), 'bytes'), 'zero bytes are NULL in Oracle: an empty value would come back as NULL')
  t.is(check('CHAR(3 CHAR)', 'ab'), '"ab" is not 3 long (CHAR(3 CHAR) pads shorter values with blanks)')
  t.is(check('VARCHAR2(20 CHAR)', 'café', 'text', 1252), undefined)
  t.regex(check('VARCHAR2(20 CHAR)', 'łódź', 'text', 1252)!, /"ł" \(U\+0142\) is not in the column's code page 1252, which would store `\?` for it \(use NVARCHAR2 or NCLOB\)/)
  t.is(check('NVARCHAR2(20)', 'łódź', 'text', 1252), undefined, 'NVARCHAR2 is Unicode whatever the database character set')
  t.is(check('RAW(16)', 'nope', 'uuid'), '"nope" is not a UUID')
  t.is(check('XMLTYPE', '<a/>'), 'ferry does not write Oracle `XMLTYPE` columns')
})

test('binds: explicit conversions and the texts they read; key parameters in the session’s formats', (t) => {
  const bind = (nativeType: string, type: ColumnInfo['type'], value: unknown) => {
    const b = bindFor(column(nativeType, type))
    return [b.sql(':1'), b.encode(value)]
  }
  t.deepEqual(bind('NUMBER(30,10)', 'decimal', '12345678901234567890.1234567890'), ['TO_NUMBER(:1)', '12345678901234567890.1234567890'])
  t.deepEqual(bind('NUMBER(1)', 'boolean', false), ['TO_NUMBER(:1)', '0'])
  t.deepEqual(bind('DATE', 'date', '2024-02-29'), ["TO_DATE(:1, 'YYYY-MM-DD HH24:MI:SS')", '2024-02-29 00:00:00'])
  t.deepEqual(bind('TIMESTAMP(9)', 'timestamp', '2024-02-29T23:59:59.5+02:00'), ["TO_TIMESTAMP(:1, 'YYYY-MM-DD HH24:MI:SS.FF9')", '2024-02-29 23:59:59.500000000'])
  t.deepEqual(bind('TIMESTAMP(9) WITH TIME ZONE', 'timestamptz', '2020-06-01T12:00:00+05:30'), [
    "TO_TIMESTAMP_TZ(:1, 'YYYY-MM-DD HH24:MI:SS.FF9 TZH:TZM')",
    '2020-06-01 06:30:00.000000000 +00:00',
  ])
  t.deepEqual(bind('BINARY_DOUBLE', 'float', 1.7976931348623157e308), [':1', 1.7976931348623157e308])
  t.is(utcText(new Date('1950-01-01T00:00:00-08:00')), '1950-01-01 08:00:00.000000000 +00:00')
  t.is(paramValue('2024-02-29', column('DATE', 'date')), '2024-02-29 00:00:00')
  t.is(paramValue(true, column('NUMBER(1)', 'boolean')), 1)
  t.deepEqual(paramValue('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', column('RAW(16)', 'uuid')), Buffer.from('a0eebc999c0b4ef8bb6d6bb9bd380a11', 'hex'))
  t.is(paramValue(9007199254740993n, column('NUMBER(19)', 'bigint')), 9007199254740993n, 'oracledb binds a bigint as NUMBER exactly')
})
