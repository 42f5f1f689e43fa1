// Redis key patterns and settings, checked before any connection opens, and the set of keys a SCAN
// has handed over (no server needed).
import test from 'ava'
import { resolveSettings } from '../src/config.js'
import { KeySet } from '../src/engines/redis/redis-keyset.js'
import { keyPattern } from '../src/engines/redis/redis-pattern.js'
import { redisSettings } from '../src/engines/redis/redis-settings.js'
import { redisCommand } from '../sinks/redis/redis-command.js'

test('a key pattern names its columns, matches by a glob and parses keys back into values', (t) => {
  const p = keyPattern('order:{order_id}:line:{line}')
  t.deepEqual(p.columns, ['order_id', 'line'])
  t.is(p.glob, 'order:*:line:*')
  t.is(p.build(['7', '3']), 'order:7:line:3')
  t.deepEqual(p.parse('order:7:line:3'), ['7', '3'])
  t.deepEqual(p.parse('order:a:b:line:c:line:d'), ['a:b', 'c:line:d'])
  t.is(p.parse('other:7'), undefined)
  // A first part holding the text that follows it would read back as other values: refused.
  t.is(p.build(['7:line:8', '3']), undefined)
  t.is(keyPattern('user:{id}').build(['a:b\nc']), 'user:a:b\nc', 'the last part may hold anything')
})

test('glob characters and braces in a pattern are literal text', (t) => {
  const p = keyPattern('a*b?[c]\\{{x}}:{id}')
  t.is(p.glob, 'a\\*b\\?\\[c\\]\\\\{x}:*')
  t.is(p.build(['1']), 'a*b?[c]\\{x}:1')
  t.deepEqual(p.parse('a*b?[c]\\{x}:1'), ['1'])
})

test('a pattern that cannot be a table is refused, saying why', (t) => {
  const cases: [string, RegExp][] = [
    ['users', /has no \{column\}/],
    ['user:{id}{name}', /need text between them/],
    ['user:{id}:{id}', /appears twice/],
    ['user:{id', /opens no `\{column\}`/],
    ['user:}', /closes nothing/],
    ['user:{}', /opens no/],
  ]
  for (const [text, why] of cases) t.throws(() => keyPattern(text), { message: why }, text)
})

test('redis URLs: database, credentials, TLS, ferry settings; unknown parameters are refused', (t) => {
  const s = redisSettings('rediss://me:s3cret@cache.example:6380/4?valueFormat=json&ttl=60&sample=all')
  t.like(s.options, { host: 'cache.example', port: 6380, db: 4, username: 'me', password: 's3cret', tls: {} })
  t.is(s.valueFormat, 'json')
  t.is(s.ttl, 60)
  t.is(s.sample, Infinity)
  t.is(s.place, 'redis database 4 at cache.example:6380')
  t.like(redisSettings({ engine: 'redis', host: 'h', db: 2, ttl: 5 }), { ttl: 5, sample: 1000, options: { host: 'h', db: 2 } })
  t.throws(() => redisSettings('redis://h/0?valueFormat=xml'), { message: /`valueFormat` must be `hash` or `json`/ })
  t.throws(() => redisSettings('redis://h/0?ttl=-1'), { message: /`ttl` must be a whole number/ })
  t.throws(() => redisSettings('redis://h/0?valuformat=json'), { message: /parameter `valuformat` is unknown/ })
  t.throws(() => redisSettings('redis://h/x'), { message: /not a database number/ })
})

const base = { source: 'sqlite:a.db', target: 'redis://127.0.0.1:6379/0', sourceTable: 'users' }

test('pipeline settings for Redis are checked before any connection opens', (t) => {
  const bad: [object, RegExp][] = [
    [{ targetTable: 'users' }, /`targetTable`: `users` is not a Redis key pattern: it has no \{column\}/],
    [{ targetTable: 'user:{id}', target: 'redis://127.0.0.1:6379/0?valueFormat=csv' }, /valueFormat/],
    [{ targetTable: 'user:{id}', targetWhere: 'x > 1' }, /`targetWhere`: a Redis target takes no filter/],
    [{ source: 'redis://127.0.0.1:6379/0', sourceTable: 'user:{id}', where: 'id > 1', target: 'sqlite:b.db' }, /`where`: a Redis source takes no filter/],
    [{ source: 'redis://127.0.0.1:6379/0?ttl=5', sourceTable: 'user:{id}', target: 'sqlite:b.db' }, /are for a target/],
  ]
  for (const [override, why] of bad) t.throws(() => resolveSettings('p', { ...base, ...override }), { message: why }, JSON.stringify(override))
  t.notThrows(() => resolveSettings('p', { ...base, targetTable: 'user:{id}', target: 'redis://127.0.0.1:6379/0?valueFormat=json&ttl=3600' }))
})

test('a step command line splits as redis-cli splits it', (t) => {
  t.deepEqual(redisCommand(' SET "a key" \'single q\' '), ['SET', 'a key', 'single q'])
  t.throws(() => redisCommand('SET "a""b"'), { message: /not a Redis command line/ })
  t.deepEqual(redisCommand('SET k "line\\nnext \\"q\\""'), ['SET', 'k', 'line\nnext "q"'])
  t.throws(() => redisCommand('SET "open'), { message: /not a Redis command line/ })
  t.throws(() => redisCommand('  '), { message: /not a Redis command line/ })
})

test('the key set drops a key seen before, byte for byte, through its growth', (t) => {
  const keys = new KeySet()
  const all = [...Array.from({ length: 50_000 }, (_, i) => `user:${i}`), '', 'é', 'e\u0301', '🚀', 'user:1\n', 'x'.repeat(70_000)]
  t.is(all.filter((key) => keys.add(key)).length, all.length, 'every key the first time is new')
  t.is(keys.size, all.length)
  t.false(all.some((key) => keys.add(key)), 'every key a second time is a repeat')
  t.true(keys.add('user:50000'))
  t.is(keys.size, all.length + 1)
})
