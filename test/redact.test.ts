// Issue 10, item 11: the redaction of each credential form, one unit at a time (test/secrets.test.ts
// runs them all through a real run).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { resolveSettings } from '../src/config.js'
import { describeEndpoint } from '../src/engines/registry.js'
import { createLogger } from '../src/log.js'
import { isSecretName, redact, redactText, redactUrl } from '../src/redact.js'
import { RejectedRows } from '../src/rejected.js'
import { writeReport, type Report } from '../src/report.js'
import { collectSecrets, Scrubber, scrubError } from '../src/scrub.js'
import { tempDir } from './helpers.js'

const pem = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----\n'

const urls: [string, string][] = [
  ['postgres://app:s3cret@db:5432/prod', 'postgres://app:***@db:5432/prod'],
  ['postgres://app:pa@ss@w:rd@db:5432/prod', 'postgres://app:***@db:5432/prod'],
  ['postgres://app:pa/ss?w#rd@db:5432/prod', 'postgres://app:***@db:5432/prod'],
  ['postgres://app@db/prod?password=s3cret&sslmode=require', 'postgres://app@db/prod?password=***&sslmode=require'],
  ['postgres://app@db/prod?sslpassword=s3cret&sslkey=/keys/client.key', 'postgres://app@db/prod?sslpassword=***&sslkey=***'],
  ['postgress://app:s3cret@db/prod', 'postgress://app:***@db/prod'],
  ['postgres:/app:s3cret@db/prod', 'postgres:***@db/prod'],
  ['app:s3cret@db:5432/prod', 'app:***@db:5432/prod'],
  ['mysql://root@localhost/db', 'mysql://root@localhost/db'],
  ['mysql://root:s3cret@[::1]:3306/db', 'mysql://root:***@[::1]:3306/db'],
  ['mongodb://app:s3cret@h1:27017,h2:27017/db?authSource=admin', 'mongodb://app:***@h1:27017,h2:27017/db?authSource=admin'],
  ['mongodb+srv://app:p%40ss@cluster0.example.net/db', 'mongodb+srv://app:***@cluster0.example.net/db'],
  ['redis://:s3cret@localhost:6379/0', 'redis://:***@localhost:6379/0'],
  ['rediss://default:s3cret@cache:6380', 'rediss://default:***@cache:6380'],
  ['https://es.example.com:9200/?api_key=s3cret', 'https://es.example.com:9200/?api_key=***'],
  ['cassandra://h:9042/ks?apiKey=s3cret&token=t0ken', 'cassandra://h:9042/ks?apiKey=***&token=***'],
  ['scott/tiger@db.example.com:1521/orcl', 'scott/***@db.example.com:1521/orcl'],
  ['Server=h,1433;User Id=app;Password=s3 cret;Encrypt=true', 'Server=h,1433;User Id=app;Password=***;Encrypt=true'],
  // No credentials: unchanged.
  ['sqlite:data/app.db', 'sqlite:data/app.db'],
  ['sqlite::memory:', 'sqlite::memory:'],
  ['redis://cache:6379', 'redis://cache:6379'],
  ['postgres://[::1]:5432/db', 'postgres://[::1]:5432/db'],
  ['postgres://db:5432/prod?application_name=ferry', 'postgres://db:5432/prod?application_name=ferry'],
  ["qty > 5 AND note = 'a:b@c'", "qty > 5 AND note = 'a:b@c'"],
]

for (const [url, redacted] of urls) {
  test(`redactUrl: ${url}`, (t) => {
    t.is(redactUrl(url), redacted)
  })
}

test('secret names: case, separators and suffixes count; key columns do not', (t) => {
  for (const name of ['password', 'PASSWORD', 'passwd', 'pwd', 'pass', 'passphrase', 'sslpassword', 'secret', 'clientSecret', 'token', 'accessToken', 'apiKey', 'api_key', 'x-api-key', 'key', 'sslkey', 'ssl_key', 'cert', 'pfx', 'auth', 'auth_pass', 'Authorization', 'credentials', 'secretAccessKey', 'bearer']) {
    t.true(isSecretName(name), name)
  }
  for (const name of ['primaryKey', 'targetKey', 'assertUniqueKey', 'user', 'username', 'host', 'database', 'ca', 'rejectUnauthorized', 'passive', 'keyspace']) {
    t.false(isSecretName(name), name)
  }
})

test('redact: secret options at any depth, URLs in any string, functions and bytes named; nothing hidden copied', (t) => {
  const hidden = { user: 'u' }
  Object.defineProperty(hidden, 'password', { value: 's3cret', enumerable: false })
  const settings = {
    source: 'postgres://u:p@h/d?password=q',
    target: {
      engine: 'postgres',
      user: 'u',
      password: 's3cret',
      ssl: { rejectUnauthorized: false, key: pem, cert: Buffer.from('cert'), passphrase: 'pp', ca: 'public' },
      extra: { auth: { token: 't' }, headers: { Authorization: 'Bearer t' }, hosts: ['mongodb://a:b@h'] },
    },
    primaryKey: ['id'],
    hidden,
    transform: function upper() {},
  }
  t.deepEqual(redact(settings), {
    source: 'postgres://u:***@h/d?password=***',
    target: {
      engine: 'postgres',
      user: 'u',
      password: '***',
      ssl: { rejectUnauthorized: false, key: '***', cert: '***', passphrase: '***', ca: 'public' },
      extra: { auth: '***', headers: { Authorization: '***' }, hosts: ['mongodb://a:***@h'] },
    },
    primaryKey: ['id'],
    hidden: { user: 'u' },
    transform: '[function upper]',
  })
})

test('redact: a cycle is cut, a shared object printed twice', (t) => {
  const shared = { password: 'x' }
  const cyclic: Record<string, unknown> = { a: shared, b: shared }
  cyclic.self = cyclic
  t.deepEqual(redact(cyclic), { a: { password: '***' }, b: { password: '***' }, self: '[circular]' })
})

test('redactText: URLs inside a message, and private keys', (t) => {
  t.is(
    redactText('cannot open the source database `postgres://u:pw@h/db?password=x`: refused; also "mysql://r:pw@h"'),
    'cannot open the source database `postgres://u:***@h/db?password=***`: refused; also "mysql://r:***@h"',
  )
  t.is(redactText(`key ${pem.trim()} end`), 'key *** end')
  t.is(redactText(JSON.stringify({ msg: `key ${pem.trim()}` })), '{"msg":"key ***"}')
  // A key cut short is removed to the end of its JSON string, not to the end of the line.
  t.is(redactText(JSON.stringify({ msg: pem.slice(0, 60), level: 30 })), '{"msg":"***","level":30}')
})

test('collectSecrets: values under secret names (bytes as text), URL passwords as written and decoded', (t) => {
  const secrets = collectSecrets({
    source: 'postgres://u:p%40ss%2Fword@h/d?password=q%20p',
    target: { engine: 'postgres', user: 'admin', password: 'optpass', ssl: { key: Buffer.from(pem), passphrase: 1234567 } },
    tables: [{ target: { engine: 'mysql', credentials: { username: 'cu', password: 'cp' } } }],
    sourceTable: 'items',
  })
  t.deepEqual(
    [...secrets].sort(),
    ['p%40ss%2Fword', 'p@ss/word', 'q%20p', 'q p', 'optpass', pem, '1234567', 'cu', 'cp'].sort(),
  )
})

test('Scrubber: known secrets as written, JSON-escaped and line by line; short ones left to the structural redaction', (t) => {
  const scrubber = new Scrubber(['Pa"ss\\word', pem, 'abc'])
  t.is(scrubber.scrub(JSON.stringify({ msg: 'auth failed with Pa"ss\\word' })), '{"msg":"auth failed with ***"}')
  t.is(scrubber.scrub('raw Pa"ss\\word here'), 'raw *** here')
  // util.inspect splits a long multi-line string into lines.
  t.false(scrubber.scrub("'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n' +").includes('MIIEvQ'))
  t.is(scrubber.scrub('abc stays'), 'abc stays')
  t.is(scrubber.known('row postgres://u:pw@h stays, Pa"ss\\word does not'), 'row postgres://u:pw@h stays, *** does not')
  t.is(new Scrubber().scrub('postgres://u:pw@h'), 'postgres://u:***@h')
})

test('scrubError: message, stack, own string properties and causes', (t) => {
  const scrubber = new Scrubber(['S3cretPw'])
  let invalid: unknown
  try {
    new URL('mysql://u:S3cretPw@h:notaport/db')
  } catch (err) {
    invalid = err
  }
  const err = new Error('open failed with S3cretPw', { cause: invalid })
  scrubber.error(err)
  t.is(err.message, 'open failed with ***')
  t.false(err.stack!.includes('S3cretPw'))
  t.false(String((invalid as { input: string }).input).includes('S3cretPw'))
  t.false(JSON.stringify(Object.entries(invalid as object)).includes('S3cretPw'))
  t.is(scrubError('not an error', scrubber.scrub), 'not an error')
  const frozen = Object.freeze(new Error('S3cretPw'))
  t.notThrows(() => scrubber.error(frozen))
})

test('the log file and the report are scrubbed; the rejected-rows file scrubs its error and only known secrets in its data', async (t) => {
  const dir = tempDir()
  const scrubber = new Scrubber(['OptS3cret'])
  const { logger, file } = createLogger({ pipeline: 'p', logDir: dir, level: 'info', console: false, stamp: 's', scrub: scrubber.scrub })
  logger.info('opening postgres://u:UrlS3cret@h/db with OptS3cret')
  logger.error({ detail: { password: 'OptS3cret' } }, 'failed')
  logger.flush()
  const log = readFileSync(file, 'utf8')
  t.false(/S3cret/.test(log), log)
  t.notThrows(() => log.trim().split('\n').map((l) => JSON.parse(l) as unknown), 'still JSON lines')

  const reportFile = join(dir, 'r.json')
  await writeReport(reportFile, { summary: { error: 'boom OptS3cret at mysql://r:UrlS3cret@h' } } as unknown as Report, scrubber.scrub)
  t.false(/S3cret/.test(readFileSync(reportFile, 'utf8')))

  const rejected = new RejectedRows(join(dir, 'rejected.jsonl'), scrubber)
  await rejected.add('items', 1, new Error('refused by postgres://u:UrlS3cret@h'), { id: 1, url: 'https://u:p@site', note: 'OptS3cret' })
  t.deepEqual(JSON.parse(readFileSync(rejected.file, 'utf8')), {
    table: 'items',
    key: 1,
    error: 'refused by postgres://u:***@h',
    row: { id: 1, url: 'https://u:p@site', note: '***' },
  })
})

test('a bad setting is echoed redacted', (t) => {
  const err = t.throws(() =>
    resolveSettings('p', {
      source: 'postgress://u:TypoS3cret@h/db',
      target: { engine: 'postgres', password: 'OptS3cret' },
      sourceTable: 't',
      batchSize: 'postgres://u:BadS3cret@h/db',
    }),
  )
  t.regex(err!.message, /postgress:\/\/u:\*\*\*@h\/db/)
  t.regex(err!.message, /postgres:\/\/u:\*\*\*@h\/db/)
  t.false(/S3cret/.test(err!.message), err!.message)
})

test('describeEndpoint redacts URLs and never prints options', (t) => {
  t.is(describeEndpoint('postgres://u:pw@h/db?password=x'), 'postgres://u:***@h/db?password=***')
  t.is(describeEndpoint({ engine: 'mysql', password: 'x' }), 'mysql connection options')
})
