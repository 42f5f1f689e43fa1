// The Cassandra engine's server-free logic: URL settings, exact decimals and varints on the wire,
// value encodings and their refusals, token ranges, CQL type names and error classes.
import test from 'ava'
import cassandra from 'cassandra-driver'
import { classifyCassandraError } from '../src/engines/cassandra/cassandra-errors.js'
import { decimalBytes, decimalFromBytes, instantText, varintBytes, varintValue, wholeNumber } from '../src/engines/cassandra/cassandra-numbers.js'
import { codes, cqlTypeFor, cqlTypeName } from '../src/engines/cassandra/cassandra-schema.js'
import { cassandraSettings, checkCassandraSettings } from '../src/engines/cassandra/cassandra-settings.js'
import { maxToken, minToken, rangeOf, splitEvenly, wholeRing } from '../src/engines/cassandra/cassandra-tokens.js'
import { decodeValue, encodeValue, Refusal } from '../src/engines/cassandra/cassandra-values.js'
import { engineOf, openSource } from '../src/engines/registry.js'
import { ConfigError } from '../src/errors.js'
import { redactUrl } from '../src/redact.js'

test('URLs: hosts with and without ports, credentials, settings; unknown parameters refused', (t) => {
  t.is(engineOf('cassandra://h/ks'), 'cassandra')
  const s = cassandraSettings('cassandra://ann:p%40ss@h1,h2:9043/shop?consistency=local_one&partitionKey=a,b&concurrency=8&nulls=unset&ifNotExists=true&replicationFactor=3&localDataCenter=dc2')
  t.deepEqual(s.contactPoints, ['h1:9042', 'h2:9043'])
  t.is(s.keyspace, 'shop')
  t.deepEqual(s.credentials, { username: 'ann', password: 'p@ss' })
  t.like(s, { consistency: 'LOCAL_ONE', partitionKey: ['a', 'b'], concurrency: 8, nulls: 'unset', ifNotExists: true, replicationFactor: 3, localDataCenter: 'dc2' })
  t.like(cassandraSettings('cassandra://h/ks'), { consistency: 'LOCAL_QUORUM', concurrency: 64, nulls: 'write', ifNotExists: false, localDataCenter: 'datacenter1' })
  t.is(redactUrl('cassandra://ann:secret@h1,h2/shop'), 'cassandra://ann:***@h1,h2/shop')
  t.throws(() => cassandraSettings('cassandra://h/ks?consistancy=ONE'), { instanceOf: ConfigError, message: /parameter `consistancy` is unknown/ })
  t.throws(() => cassandraSettings('cassandra://h/ks?consistency=SOME'), { message: /expected one of ANY, ONE/ })
  t.throws(() => cassandraSettings('cassandra://h/'), { message: /names no keyspace/ })
  t.throws(() => cassandraSettings('cassandra://h/my-ks'), { message: /keyspace `my-ks`: a keyspace name is 1 to 48 letters/ })
  t.throws(() => cassandraSettings('cassandra://h/ks?concurrency=0'), { message: /`concurrency`: expected a whole number from 1/ })
  const options = cassandraSettings({ engine: 'cassandra', contactPoints: ['10.0.0.1'], keyspace: 'ks', consistency: 'ONE', sslOptions: { rejectUnauthorized: true } })
  t.deepEqual(options.contactPoints, ['10.0.0.1:9042'])
  t.deepEqual(options.driverOptions, { sslOptions: { rejectUnauthorized: true } })
  t.throws(() => checkCassandraSettings('cassandra://h/ks', 'target', 'bad-name', undefined), { message: /`bad-name` cannot name a Cassandra table/ })
  t.throws(() => checkCassandraSettings('cassandra://h/ks', 'source', 'users', { status: 'x' }), { message: /CQL relations as text/ })
})

test('decimals and varints go on the wire exactly, exponents and negative scales included', (t) => {
  for (const [text, plain] of [
    ['12345678901234567890.1234567890', '12345678901234567890.1234567890'],
    ['-0.0000000001', '-0.0000000001'],
    ['1E+3', '1000'],
    ['-1.5e-3', '-0.0015'],
    ['0.00', '0.00'],
    ['-0', '0'],
  ] as const) {
    t.is(decimalFromBytes(decimalBytes(text)!), plain, text)
  }
  // Cassandra's own encoding: scale 2, unscaled 150 (0x0096).
  t.deepEqual(decimalBytes('1.50'), Buffer.from([0, 0, 0, 2, 0x00, 0x96]))
  t.is(cassandra.types.BigDecimal.fromBuffer(decimalBytes('-12.345')!).toString(), '-12.345')
  for (const n of [0n, 127n, 128n, -128n, -129n, 2n ** 64n, -(2n ** 100n) + 1n]) t.is(varintValue(varintBytes(n)), n, String(n))
  t.deepEqual(varintBytes(-1n), Buffer.from([0xff]))
  t.is(wholeNumber('12.00'), 12n)
  t.is(wholeNumber('1.2E+1'), 12n)
  t.is(wholeNumber('1.5'), undefined)
  t.is(decimalBytes('1.2.3'), undefined)
})

const type = (code: number, info: unknown = null) => ({ code, info })

test('values are encoded exactly or refused with the reason', (t) => {
  const enc = (value: unknown, code: number, logical = 'text' as const) => encodeValue(value, type(code), { type: logical })
  const refused = (value: unknown, code: number, reason: RegExp) => t.throws(() => enc(value, code), { instanceOf: Refusal, message: reason })
  t.is(enc('2147483647', codes.int), 2147483647)
  refused(2147483648, codes.int, /out of the range of an int/)
  refused(1.5, codes.int, /not a whole number/)
  t.is(enc(9223372036854775807n, codes.bigint), 9223372036854775807n)
  refused('9223372036854775808', codes.bigint, /out of the range of a bigint/)
  t.is(enc('-12345678901234567890123', codes.varint), -12345678901234567890123n)
  t.is(enc('0.1', codes.double), 0.1)
  refused('0.10000000000000000001', codes.double, /not a number a double holds exactly/)
  t.is(enc(1, codes.boolean), true)
  refused('yes', codes.boolean, /not a boolean/)
  refused('é', codes.ascii, /beyond US-ASCII/)
  t.is(encodeValue({ a: 1 }, type(codes.text), { type: 'json' }), '{"a":1}')
  t.is(encodeValue('a JSON string', type(codes.text), { type: 'json' }), '"a JSON string"')
  refused('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', codes.timeuuid, /not a time-based \(version 1\) UUID/)
  refused('not-a-uuid', codes.uuid, /not a UUID/)
  t.is((enc('2020-06-01T12:00:00.5+05:30', codes.timestamp) as Date).toISOString(), '2020-06-01T06:30:00.500Z')
  t.is((enc('1969-07-20 20:17:40', codes.timestamp) as Date).toISOString(), '1969-07-20T20:17:40.000Z')
  t.is((enc('0099-01-01', codes.timestamp) as Date).getUTCFullYear(), 99)
  refused('2020-01-01 00:00:00.0001', codes.timestamp, /at most milliseconds/)
  t.is(String(enc('2020-01-01 00:00:00', codes.date)), '2020-01-01')
  refused('2020-01-01 10:00:00', codes.date, /not a date/)
  refused('nowhere', codes.inet, /not an IP address/)
  t.deepEqual(enc(new Uint8Array([1, 2]), codes.blob), Buffer.from([1, 2]))
  const map = encodeValue({ '1': ['0x00ff'] }, type(codes.map, [type(codes.int), type(codes.list, type(codes.blob))]), { type: 'json' }) as Map<number, Buffer[]>
  t.deepEqual([...map], [[1, [Buffer.from([0, 255])]]])
  t.throws(() => encodeValue([1, 'x', 3], type(codes.tuple, [type(codes.int), type(codes.text)]), { type: 'json' }), { instanceOf: Refusal, message: /is not a frozen<tuple<int, text>>|is not a tuple<int, text>/ })
})

test('values are decoded into ferry forms: decimals as text, timestamps in UTC or as wall clock, collections as JSON', (t) => {
  const dec = (value: unknown, code: number, logical: 'text' | 'json' | 'timestamp' | 'timestamptz' = 'text', info: unknown = null) => decodeValue(value, type(code, info), { type: logical })
  t.is(dec(cassandra.types.BigDecimal.fromString('1.50'), codes.decimal), '1.50')
  t.is(dec(5n, codes.bigint), 5)
  t.is(dec(2n ** 60n, codes.bigint), 2n ** 60n)
  t.is(dec(-(10n ** 30n), codes.varint), `-1${'0'.repeat(30)}`)
  t.is(dec(new Date('2020-01-01T10:00:00.120Z'), codes.timestamp, 'timestamptz'), '2020-01-01T10:00:00.12Z')
  t.is(dec(new Date('2020-01-01T10:00:00.000Z'), codes.timestamp, 'timestamp'), '2020-01-01 10:00:00')
  t.is(instantText(new Date(Date.UTC(10000, 0, 1))), '10000-01-01T00:00:00.000Z')
  t.deepEqual(dec('{"a":[1]}', codes.text, 'json'), { a: [1] })
  const mapOfSets = dec(new Map([[2n, [new Date(0)]]]), codes.map, 'json', [type(codes.bigint), type(codes.set, type(codes.timestamp))])
  t.deepEqual(mapOfSets, { '2': ['1970-01-01T00:00:00Z'] })
  t.deepEqual(dec([Buffer.from([1]), Buffer.alloc(0)], codes.list, 'json', type(codes.blob)), ['0x01', '0x'])
})

test('token ranges: the whole ring, even splits that meet, partitions as JSON', (t) => {
  t.deepEqual(rangeOf({}), wholeRing)
  t.deepEqual(rangeOf({ from: '-5', to: '7' }), { from: -5n, to: 7n })
  const parts = splitEvenly(wholeRing, 7)
  t.is(parts.length, 7)
  t.is(parts[0]!.from, minToken)
  t.is(parts.at(-1)!.to, maxToken)
  for (let i = 1; i < parts.length; i++) t.is(parts[i]!.from, parts[i - 1]!.to)
  t.deepEqual(splitEvenly({ from: 0n, to: 2n }, 5), [{ from: 0n, to: 1n }, { from: 1n, to: 2n }])
})

test('CQL types: names as the catalog spells them, and the types ferry creates', (t) => {
  t.is(cqlTypeName({ code: codes.map, info: [type(codes.text), { code: codes.set, info: type(codes.bigint), options: { frozen: true } }] }), 'map<text, frozen<set<bigint>>>')
  const column = (t: string, nativeType = t, extra = {}) => ({ name: 'c', type: t as never, nativeType, ...extra })
  t.is(cqlTypeFor(column('decimal', 'numeric(30,10)')), 'decimal')
  t.is(cqlTypeFor(column('float', 'FLOAT', { precision: 24 })), 'float')
  t.is(cqlTypeFor(column('float', 'double precision')), 'double')
  t.is(cqlTypeFor(column('json', 'jsonb')), 'text')
  t.is(cqlTypeFor(column('json', 'list<int>')), 'list<int>')
  t.is(cqlTypeFor(column('json', 'frozen<"address">')), 'text')
  t.is(cqlTypeFor(column('uuid', 'timeuuid')), 'timeuuid')
  t.is(cqlTypeFor(column('text', 'inet')), 'text')
  t.is(cqlTypeFor(column('timestamp', 'timestamp without time zone')), 'timestamp')
  t.throws(() => cqlTypeFor(column('geometry', 'POINT')), { message: /geometry, which Cassandra has no type for/ })
})

test('errors: timeouts and lost nodes are transient, invalid values once prepared rejected rows, the rest fatal', (t) => {
  const response = (code: number, message = 'x', query?: string) => Object.assign(new cassandra.errors.ResponseError(code, message), query ? { query } : {})
  t.is(classifyCassandraError(response(0x1100)), 'transient')
  t.is(classifyCassandraError(response(0x1000)), 'transient')
  t.is(classifyCassandraError(new cassandra.errors.OperationTimedOutError('late')), 'transient')
  t.is(classifyCassandraError(new cassandra.errors.NoHostAvailableError({})), 'transient')
  t.is(classifyCassandraError(Object.assign(new Error('Socket was closed'), { name: 'DriverError', isSocketError: true })), 'transient')
  t.is(classifyCassandraError(response(0x2200, 'Key may not be empty')), 'rejected')
  t.is(classifyCassandraError(response(0x2200, 'Undefined column name x', 'INSERT …')), 'fatal')
  t.is(classifyCassandraError(response(0x2200, 'unconfigured table t')), 'fatal')
  t.is(classifyCassandraError(response(0x2000, 'line 1: syntax error')), 'fatal')
  t.is(classifyCassandraError(response(0x2100, 'no permission')), 'fatal')
  t.is(classifyCassandraError(new TypeError('Not a valid bigint, expected Long/Number/String/Buffer')), 'rejected')
})

test('no node reachable: the error names each node with its own reason, on one line', async (t) => {
  // Port 1 on this machine refuses connections: nothing listens there.
  const error = await t.throwsAsync(openSource('cassandra://127.0.0.1:1/shop'))
  t.is(error.message, 'cannot open the source database `cassandra://127.0.0.1:1/shop`: no node could take the request (127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1)')
})
