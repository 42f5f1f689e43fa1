// The MongoDB engine's own logic that needs no server: URL settings, value conversions, and the
// partitions cut from split points (the shape a sorted `$sample` on a real MongoDB hands over,
// which FerretDB cannot produce).
import test from 'ava'
import { Binary, Decimal128, Double, Int32, Long, ObjectId } from 'mongodb'
import { mongoConfig } from '../src/engines/mongodb/mongodb-connection.js'
import { classifyMongoError } from '../src/engines/mongodb/mongodb-errors.js'
import { partitionsFrom, PositionTracker, rangeFilter } from '../src/engines/mongodb/mongodb-ranges.js'
import { fromBson, plainDecimal, toBson, ValueError } from '../src/engines/mongodb/mongodb-values.js'
import { ConfigError, SinkWriteError } from '../src/errors.js'
import type { ColumnInfo, LogicalType } from '../src/types.js'

const col = (type: LogicalType, nativeType: string = type): ColumnInfo => ({ name: 'c', type, nativeType, nullable: true })
const strict = { decimals: 'decimal128', subMillisecond: 'refuse', refuseNaN: false } as const

test('ferry settings come off the URL before the driver sees it; the database is required', (t) => {
  const c = mongoConfig('mongodb://u:p@h1:1,h2:2/app?replicaSet=rs&sampleSize=50&decimals=string&subMillisecond=truncate')
  t.is(c.url, 'mongodb://u:p@h1:1,h2:2/app?replicaSet=rs')
  t.is(c.database, 'app')
  t.deepEqual(c.settings, { sampleSize: 50, decimals: 'string', subMillisecond: 'truncate' })
  t.deepEqual(mongoConfig({ engine: 'mongodb', url: 'mongodb+srv://cluster.example/?retryWrites=true', database: 'x', sampleSize: 0 }).settings.sampleSize, 0)
  t.throws(() => mongoConfig('mongodb://127.0.0.1:27017/'), { instanceOf: ConfigError, message: /names no database/ })
  t.throws(() => mongoConfig('mongodb://h/db?decimals=float'), { instanceOf: ConfigError, message: /`decimals`: expected decimal128 or string/ })
  t.throws(() => mongoConfig('mongodb://u:secret@h/db?sampleSize=-1'), { message: /sampleSize/ })
})

test('Decimal128 text in plain notation, with the digits it holds', (t) => {
  for (const [text, plain] of [
    ['-1E-10', '-0.0000000001'],
    ['0E-10', '0.0000000000'],
    ['1.234E+5', '123400'],
    ['1E+2', '100'],
    ['12.50', '12.50'],
    ['NaN', 'NaN'],
  ]) {
    t.is(plainDecimal(text!), plain!)
  }
})

test('values are written as the BSON type of their column, exactly, or refused saying why', (t) => {
  t.true(toBson(5, col('integer'), strict) instanceof Int32)
  t.true(toBson(5, col('bigint'), strict) instanceof Long)
  t.is(String(toBson(9223372036854775807n, col('bigint'), strict)), '9223372036854775807')
  t.true(toBson(2147483648, col('integer'), strict) instanceof Long, 'beyond 32 bits: a Long, not a wrapped Int32')
  t.true(toBson(5, col('float'), strict) instanceof Double)
  t.is(String(toBson('12345678901234567890.1234567890', col('decimal'), strict)), '12345678901234567890.1234567890')
  t.is(toBson('0.10', col('decimal'), { ...strict, decimals: 'string' }), '0.10')
  t.throws(() => toBson('1234567890123456789012345678901234.5', col('decimal'), strict), { instanceOf: ValueError, message: /Decimal128 holds exactly/ })
  t.is(toBson(1, col('boolean'), strict), true)
  t.is((toBson('2024-02-29 23:59:59.999', col('timestamp'), strict) as Date).toISOString(), '2024-02-29T23:59:59.999Z')
  t.is((toBson('2020-06-01T12:00:00+05:30', col('timestamptz'), strict) as Date).toISOString(), '2020-06-01T06:30:00.000Z')
  t.is((toBson('0099-01-01', col('date'), strict) as Date).toISOString(), '0099-01-01T00:00:00.000Z')
  t.throws(() => toBson('2024-01-01 00:00:00.0001', col('timestamp'), strict), { message: /more precise than the millisecond/ })
  t.is((toBson('1969-12-31 23:59:59.9999', col('timestamp'), { ...strict, subMillisecond: 'truncate' }) as Date).toISOString(), '1969-12-31T23:59:59.999Z')
  t.is((toBson('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', col('uuid'), strict) as Binary).sub_type, 4)
  t.throws(() => toBson('nope', col('uuid'), strict), { message: /is not a UUID/ })
  t.true(toBson('0123456789abcdef01234567', col('text', 'objectId'), strict) instanceof ObjectId)
  t.is(toBson('0123456789abcdef01234567', col('text'), strict), '0123456789abcdef01234567')
  t.throws(() => toBson(Number.NaN, col('float'), { ...strict, refuseNaN: true }), { message: /NaN/ })
  t.throws(() => toBson(1.5, col('integer'), strict), { message: /not an integer/ })
  const doc = toBson({ at: { $date: '2020-01-01T00:00:00Z' }, id: { $oid: '0123456789abcdef01234567' }, n: 9007199254740993n }, col('json'), strict) as Record<string, unknown>
  t.true(doc.at instanceof Date && doc.id instanceof ObjectId && doc.n instanceof Long)
})

test('values read are in the shared forms of their column types', (t) => {
  t.is(fromBson(Decimal128.fromString('-1E-10'), col('decimal')), '-0.0000000001')
  t.is(fromBson(9007199254740993n, col('bigint')), 9007199254740993n)
  t.is(fromBson(5n, col('bigint')), 5)
  t.is(fromBson(new Date('1969-07-20T20:17:40.500Z'), col('timestamptz')), '1969-07-20T20:17:40.5Z')
  t.is(fromBson(new Date('1969-07-20T20:17:40.500Z'), col('timestamp')), '1969-07-20 20:17:40.5')
  t.is(fromBson(new Date('9999-12-31T00:00:00Z'), col('date')), '9999-12-31')
  t.is(fromBson(new ObjectId('0123456789abcdef01234567'), col('text')), '0123456789abcdef01234567')
  t.deepEqual(fromBson(new Binary(Buffer.from([1, 2])), col('bytes')), Buffer.from([1, 2]))
  t.deepEqual(fromBson({ at: new Date(0), id: new ObjectId('0123456789abcdef01234567'), n: 9007199254740993n }, col('json')), {
    at: { $date: '1970-01-01T00:00:00Z' },
    id: { $oid: '0123456789abcdef01234567' },
    n: 9007199254740993n,
  })
})

test('split points of several BSON type classes make ranges within each class, then one partition for the rest', (t) => {
  // As a real MongoDB's `[$sample, $sort]` hands them over: numbers, then strings, then ObjectIds.
  const oid = new ObjectId('0123456789abcdef01234567')
  const partitions = partitionsFrom([Number.NaN, 5, Long.fromNumber(9), 'b', 'q', oid])
  t.deepEqual(partitions, [
    { type: 'number', lte: { $numberInt: '5' } },
    { type: 'number', gt: { $numberInt: '5' }, lte: { $numberLong: '9' } },
    { type: 'number', gt: { $numberLong: '9' } },
    { type: 'string', lte: 'b' },
    { type: 'string', gt: 'b', lte: 'q' },
    { type: 'string', gt: 'q' },
    { type: 'objectId', lte: { $oid: oid.toHexString() } },
    { type: 'objectId', gt: { $oid: oid.toHexString() } },
    { except: ['number', 'string', 'objectId'] },
  ])
  t.deepEqual(partitionsFrom([]), [{}])
  t.throws(() => partitionsFrom([1, 'a', 2]), { message: /out of the server's order/ })
  t.deepEqual(rangeFilter('_id', partitions[0]!), { _id: { $type: ['number'], $not: { $gt: new Int32(5) } } })
  t.deepEqual(rangeFilter('_id', partitions[8]!), { _id: { $not: { $type: ['number', 'string', 'objectId'] } } })
  t.is(rangeFilter('_id', {}), undefined)
  // A resume in the rest partition after a date, having passed the booleans.
  const at = new Date(0)
  t.deepEqual(rangeFilter('_id', partitions[8]!, { after: { $date: { $numberLong: '0' } }, done: ['bool'] }), {
    $or: [{ _id: { $type: ['date'], $gt: at } }, { _id: { $not: { $type: ['number', 'string', 'objectId', 'bool', 'date'] } } }],
  })
  // After a NaN (which sorts before every number), every other number is still to come.
  t.deepEqual(rangeFilter('_id', partitions[0]!, { after: { $numberDouble: 'NaN' } }), { _id: { $type: ['number'], $gte: -Infinity, $not: { $gt: new Int32(5) } } })
})

test('a position in the rest partition remembers each class the sorted cursor passed', (t) => {
  const tracker = new PositionTracker({}, undefined)
  t.deepEqual(tracker.after([1, 2]), { after: { $numberInt: '2' } })
  t.deepEqual(tracker.after(['a', true, false]), { after: false, done: ['number', 'string'] })
  const within = new PositionTracker({ type: 'string' }, undefined)
  t.deepEqual(within.after(['a', 'b']), { after: 'b' })
})

test('write errors: a duplicate key or invalid document is one row, a lost connection transient, a missing privilege fatal', (t) => {
  t.is(classifyMongoError({ name: 'MongoBulkWriteError', code: 11000, writeErrors: [{ index: 0, code: 11000, errmsg: 'E11000' }] }), 'rejected')
  t.is(classifyMongoError({ name: 'MongoBulkWriteError', writeErrors: [{ index: 3, code: 121, errmsg: 'Document failed validation' }] }), 'rejected')
  t.is(classifyMongoError({ name: 'MongoBulkWriteError', writeErrors: [{ index: 0, code: 11000 }, { index: 1, code: 91 }] }), 'transient')
  t.is(classifyMongoError(Object.assign(new Error('connection closed'), { name: 'MongoNetworkError' })), 'transient')
  t.is(classifyMongoError({ code: 13, message: 'not authorized' }), 'fatal')
  t.is(classifyMongoError({ writeConcernError: { code: 64 } }), 'transient')
  t.is(classifyMongoError(new SinkWriteError('x', 'rejected')), 'rejected')
})
