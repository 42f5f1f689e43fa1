// Elasticsearch settings, names, filters and JSON without a server: what is refused before any
// connection opens, and the JSON that keeps every digit.
import test from 'ava'
import { errors } from '@elastic/elasticsearch'
import { resolveSettings } from '../src/config.js'
import { classifyEsError } from '../src/engines/elasticsearch/elasticsearch-connection.js'
import { documentId } from '../src/engines/elasticsearch/elasticsearch-documents.js'
import { jsonText, parseJson } from '../src/engines/elasticsearch/elasticsearch-json.js'
import { esSettings } from '../src/engines/elasticsearch/elasticsearch-settings.js'
import { decoderFor, encoderFor } from '../src/engines/elasticsearch/elasticsearch-values.js'
import { redactUrl } from '../src/redact.js'
import type { ColumnInfo } from '../src/types.js'

const settings = (more: Record<string, unknown>) => () =>
  resolveSettings('t', { source: 'sqlite::memory:', target: 'elasticsearch://127.0.0.1:9200', sourceTable: 'users', ...more })

test('elasticsearch:// is HTTP and elasticsearch+https:// TLS; credentials go to the client and stay out of messages', (t) => {
  t.like(esSettings('elasticsearch://127.0.0.1:9200').client, { node: 'http://127.0.0.1:9200', requestTimeout: 120_000 })
  const tls = esSettings('elasticsearch+https://elastic:s3cret@es.example:9243?requestTimeout=5000')
  t.like(tls.client, { node: 'https://es.example:9243', auth: { username: 'elastic', password: 's3cret' }, requestTimeout: 5000 })
  t.false(tls.place.includes('s3cret'))
  t.like(esSettings('elasticsearch://h:9200?apiKey=abc').client, { auth: { apiKey: 'abc' } })
  t.is(redactUrl('elasticsearch://h:9200?apiKey=abc'), 'elasticsearch://h:9200?apiKey=***')
  t.like(esSettings({ engine: 'elasticsearch', node: 'https://h:9200', auth: { apiKey: 'k' } }).client, { node: 'https://h:9200' })
})

test('a URL naming an index, an unknown parameter, a bad index name or filter is refused before any connection opens', (t) => {
  t.throws(settings({ target: 'elasticsearch://127.0.0.1:9200/users' }), { message: /names the node only .* the index is the table .*not `users`/ })
  t.throws(settings({ target: 'elasticsearch://127.0.0.1:9200?refresh=true' }), { message: /parameter `refresh` is unknown/ })
  t.throws(settings({ targetTable: 'Users' }), { message: /`Users` cannot name an Elasticsearch index: it has upper-case letters/ })
  t.throws(settings({ targetTable: '_users' }), { message: /starts with -, _ or \+/ })
  t.throws(settings({ targetWhere: 'status = 1' }), { message: /setting `targetWhere`: an Elasticsearch filter is a query DSL object/ })
  t.notThrows(settings({ targetWhere: '{"term": {"status": 1}}' }))
})

test('responses keep 64-bit integers exact; requests write bigints as digits', (t) => {
  t.deepEqual(parseJson('{"n":9007199254740993,"s":"12345678901234567890","m":-9223372036854775808,"f":0.1}'), {
    n: 9007199254740993n,
    s: '12345678901234567890',
    m: -9223372036854775808n,
    f: 0.1,
  })
  t.is(jsonText({ after: [9007199254740993n, 'k'] }), '{"after":[9007199254740993,"k"]}')
})

const col = (type: ColumnInfo['type'], extra: Partial<ColumnInfo> = {}): ColumnInfo => ({ name: 'c', nativeType: type, type, nullable: true, ...extra })

test('values are written as JSON that reads back exactly', (t) => {
  t.is(encoderFor(col('float'), 'double')(-0), '-0.0')
  t.throws(() => encoderFor(col('float'), 'double')(Number.NaN), { message: /has no JSON form/ })
  t.is(encoderFor(col('decimal', { precision: 10, scale: 2 }), 'scaled_float')('12.50'), '12.5')
  t.is(encoderFor(col('decimal'), 'keyword')('12.50'), '"12.50"')
  t.is(encoderFor(col('bigint'), 'long')(9223372036854775807n), '9223372036854775807')
  t.is(encoderFor(col('timestamp'), 'date')('2020-01-01 10:00:00.123456'), '"2020-01-01T10:00:00.123456"')
  t.is(encoderFor(col('timestamptz'), 'date')('2020-01-01T12:00:00+02:00'), '"2020-01-01T10:00:00Z"')
  t.is(decoderFor(col('decimal', { scale: 2 }))(12.5), '12.50')
  t.is(decoderFor(col('timestamp'))('2020-01-01T10:00:00.123456'), '2020-01-01 10:00:00.123456')
  t.is(decoderFor(col('timestamptz'))(1577836800000), '2020-01-01T00:00:00Z')
  t.throws(() => decoderFor(col('integer'))(1.5), { message: /1.5 is not a whole number/ })
})

test('a key is one _id whatever engine it came from; a composite key keeps its parts apart', (t) => {
  t.is(documentId([42n], [{ type: 'bigint' }]), documentId([42], [{ type: 'integer' }]))
  t.is(documentId(['A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'], [{ type: 'uuid' }]), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')
  t.is(documentId([7, 'a,b'], [{ type: 'integer' }, { type: 'text' }]), '["7","a,b"]')
  t.throws(() => documentId(['x'.repeat(513)], [{ type: 'text' }]), { message: /at most 512/ })
})

test('429 and lost connections are retried, a request too large is split, a bad request stops the run', (t) => {
  const response = (statusCode: number, type: string) => new errors.ResponseError({ statusCode, body: { error: { type } }, headers: {}, warnings: null, meta: {} } as never)
  t.is(classifyEsError(response(429, 'es_rejected_execution_exception')), 'transient')
  t.is(classifyEsError(response(404, 'search_context_missing_exception')), 'transient')
  t.is(classifyEsError(response(413, 'http')), 'rejected')
  t.is(classifyEsError(response(400, 'mapper_parsing_exception')), 'fatal')
  t.is(classifyEsError(new errors.ConnectionError('connect ECONNREFUSED')), 'transient')
})
