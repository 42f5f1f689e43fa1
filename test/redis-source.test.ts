// The Redis source on keys ferry did not write (no schema record): what a sample of the keys says
// becomes columns; values ferry does not read are refused naming the key. Database 12, own prefix.
import { join } from 'node:path'
import test from 'ava'
import { runPipeline } from '../src/run.js'
import { runId } from './engines.js'
import { query, tempDir, testSettings } from './helpers.js'
import { dropRedisKeys, redisClient, requireServers, servers } from './servers.js'

const prefix = runId('rsrc')
const url = servers.redis

async function toSqlite(sourceTable: string, source = url) {
  const dir = tempDir()
  const file = join(dir, 'out.db')
  const result = await runPipeline(testSettings(dir, { source, target: `sqlite:${file}`, sourceTable, targetTable: 'out', validate: 'checksum', writeMode: 'recreate' }))
  return { result, rows: () => query(file, 'SELECT * FROM out ORDER BY 1'), columns: () => query<{ name: string; type: string }>(file, "SELECT name, type FROM pragma_table_info('out')") }
}

if (await requireServers('redis')) {
  const redis = redisClient()
  test.after.always(async () => {
    redis.disconnect()
    await dropRedisKeys(url, prefix)
  })

  test('hashes without a schema record: every field becomes a text column, the key part the key', async (t) => {
    await redis.hset(`${prefix}h:a`, { name: 'Ann', city: 'Oslo' })
    await redis.hset(`${prefix}h:b`, { name: 'Bob', note: '' })
    await redis.hset(`${prefix}h:c`, { name: 'Cy', bin: Buffer.from([0xff, 0x00]) })
    const { result, rows, columns } = await toSqlite(`${prefix}h:{code}`)
    t.is(result.status, 'SUCCESS', result.error?.message ?? JSON.stringify(result.validation))
    // Fields are columns in name order, whatever order SCAN met the keys in.
    t.like(columns(), [{ name: 'code' }, { name: 'bin', type: 'BLOB' }, { name: 'city', type: 'TEXT' }, { name: 'name' }, { name: 'note' }])
    t.deepEqual(rows(), [
      { code: 'a', bin: null, city: 'Oslo', name: 'Ann', note: null },
      { code: 'b', bin: null, city: null, name: 'Bob', note: '' },
      { code: 'c', bin: Buffer.from([0xff, 0x00]), city: null, name: 'Cy', note: null },
    ])
  })

  test('JSON strings become typed columns; plain strings a `value`; lists, sets and sorted sets a JSON `value`', async (t) => {
    await redis.set(`${prefix}j:1`, JSON.stringify({ n: 5, f: 1.5, ok: true, s: 'x', o: { a: [1] } }))
    await redis.set(`${prefix}j:2`, JSON.stringify({ n: -7, f: 2, ok: false, s: null }))
    const json = await toSqlite(`${prefix}j:{id}`)
    t.is(json.result.status, 'SUCCESS', json.result.error?.message ?? JSON.stringify(json.result.validation))
    t.deepEqual(json.rows(), [
      { id: '1', f: 1.5, n: 5, o: '{"a":[1]}', ok: 1, s: 'x' },
      { id: '2', f: 2, n: -7, o: null, ok: 0, s: null },
    ])
    await redis.set(`${prefix}s:1`, 'plain text')
    await redis.set(`${prefix}s:2`, '{"a":1}')
    const strings = await toSqlite(`${prefix}s:{id}`)
    t.is(strings.result.status, 'SUCCESS', strings.result.error?.message)
    t.deepEqual(strings.rows(), [{ id: '1', value: 'plain text' }, { id: '2', value: '{"a":1}' }])
    await redis.rpush(`${prefix}l:q`, 'b', 'a', 'b')
    await redis.sadd(`${prefix}set:x`, 'b', 'a', 'c')
    await redis.zadd(`${prefix}z:top`, 2, 'two', 1, 'one', 'inf', 'big')
    for (const [pattern, value] of [
      [`${prefix}l:{name}`, '["b","a","b"]'],
      [`${prefix}set:{name}`, '["a","b","c"]'],
      [`${prefix}z:{name}`, '[["one",1],["two",2],["big","inf"]]'],
    ] as const) {
      const out = await toSqlite(pattern)
      t.is(out.result.status, 'SUCCESS', out.result.error?.message ?? JSON.stringify(out.result.validation))
      t.deepEqual(out.rows().map((r) => r.value), [value], pattern)
    }
  })

  test('a stream, keys of two types, or a field the sample did not see stop the run naming the key', async (t) => {
    await redis.xadd(`${prefix}x:1`, '*', 'a', '1')
    const stream = await toSqlite(`${prefix}x:{id}`)
    t.is(stream.result.status, 'FAILED')
    t.regex(stream.result.error?.message ?? '', new RegExp(`key \`${prefix}x:1\` of .* is a stream, which ferry does not read`))
    await redis.hset(`${prefix}m:1`, 'a', '1')
    await redis.set(`${prefix}m:2`, 'text')
    const mixed = await toSqlite(`${prefix}m:{id}`)
    t.is(mixed.result.status, 'FAILED')
    t.regex(mixed.result.error?.message ?? '', /hold values of two types: `.*m:\d` a (hash|string), `.*m:\d` a (hash|string)/)
    // Two keys with a field of their own: a sample of one key misses at least one of them.
    for (let i = 0; i < 30; i++) await redis.hset(`${prefix}f:${i}`, i >= 28 ? { a: '1', [`late${i}`]: 'x' } : { a: '1' })
    const late = await toSqlite(`${prefix}f:{id}`, `${url}?sample=1`)
    t.is(late.result.status, 'FAILED')
    t.regex(late.result.error?.message ?? '', new RegExp(`key \`${prefix}f:(28|29)\` has field \`late\\1\`, which .* does not have \\(the sampled keys have id, a(, late\\d\\d)?; sample more keys \\(\`\\?sample=all\``))
    const all = await toSqlite(`${prefix}f:{id}`, `${url}?sample=all`)
    t.is(all.result.status, 'SUCCESS', all.result.error?.message)
    t.is(all.rows().length, 30)
  })

  test('a key of another type under a recorded pattern stops the run naming the key and both types', async (t) => {
    await redis.set(`ferry:schema:${prefix}r:{id}`, JSON.stringify({ ferry: 1, pattern: `${prefix}r:{id}`, storage: 'hash', key: ['id'], columns: [{ name: 'id', nativeType: 'INTEGER', type: 'bigint', nullable: false }, { name: 'n', nativeType: 'INTEGER', type: 'integer', nullable: true }] }))
    for (let i = 1; i <= 5; i++) await redis.hset(`${prefix}r:${i}`, { id: String(i), n: String(i * 10) })
    await redis.sadd(`${prefix}r:6`, 'x')
    const wrong = await toSqlite(`${prefix}r:{id}`)
    t.is(wrong.result.status, 'FAILED')
    t.regex(wrong.result.error?.message ?? '', new RegExp(`key \`${prefix}r:6\` is a set, but \`${prefix}r:\\{id\\}\` holds hashes`))
    await redis.del(`${prefix}r:6`)
    await redis.hset(`${prefix}r:7`, { id: '7', n: 'seven' })
    const bad = await toSqlite(`${prefix}r:{id}`)
    t.regex(bad.result.error?.message ?? '', new RegExp(`key \`${prefix}r:7\`: field \`n\` \\(integer\\): \`seven\` is not a whole number`))
    await redis.hset(`${prefix}r:7`, { id: '8', n: '70' })
    const clash = await toSqlite(`${prefix}r:{id}`)
    t.regex(clash.result.error?.message ?? '', new RegExp(`key \`${prefix}r:7\`: field \`id\` holds "8", but the key says "7"`))
    await redis.hset(`${prefix}r:7`, { id: '7' })
    const fine = await toSqlite(`${prefix}r:{id}`)
    t.is(fine.result.status, 'SUCCESS', fine.result.error?.message)
    t.deepEqual(fine.rows().at(-1), { id: 7, n: 70 })
  })

  test('a pattern no key matches is a missing table, named with its glob', async (t) => {
    const { result } = await toSqlite(`${prefix}none:{id}`)
    t.is(result.status, 'FAILED')
    t.regex(result.error?.message ?? '', new RegExp(`table \`${prefix}none:\\{id\\}\` does not exist in the redis database 12 at 127.0.0.1:6379 \\(no key matches \`${prefix}none:\\*\`\\)`))
  })
}

if (await requireServers('redis')) {
  test('a user without scripting reads through pipelines, the same rows; its inserts are refused saying why', async (t) => {
    const admin = redisClient()
    const user = `${prefix}_noscript`
    await admin.call('ACL', 'SETUSER', user, 'on', '>pw', '~*', '&*', '+@all', '-@scripting')
    t.teardown(async () => {
      await admin.call('ACL', 'DELUSER', user)
      admin.disconnect()
    })
    const limited = url.replace('redis://', `redis://${user}:pw@`)
    for (let i = 1; i <= 40; i++) await admin.hset(`${prefix}ns:${i}`, { name: `n${i}`, qty: String(i) })
    await admin.sadd(`${prefix}nsset:1`, 'a', 'b')
    const hashes = await toSqlite(`${prefix}ns:{id}`, limited)
    t.is(hashes.result.status, 'SUCCESS', hashes.result.error?.message ?? JSON.stringify(hashes.result.validation))
    t.is(hashes.rows().length, 40)
    const set = await toSqlite(`${prefix}nsset:{id}`, limited)
    t.deepEqual(set.rows(), [{ id: '1', value: '["a","b"]' }])
    const copy = await runPipeline(testSettings(tempDir(), { source: limited, target: limited, sourceTable: `${prefix}ns:{id}`, targetTable: `${prefix}nscopy:{id}`, validate: 'checksum' }))
    t.is(copy.status, 'SUCCESS', copy.error?.message ?? JSON.stringify(copy.validation))
    t.deepEqual(await admin.hgetall(`${prefix}nscopy:7`), { name: 'n7', qty: '7' })
    const insert = await runPipeline(testSettings(tempDir(), { source: limited, target: limited, sourceTable: `${prefix}ns:{id}`, targetTable: `${prefix}nsins:{id}`, writeMode: 'insert' }))
    t.is(insert.status, 'FAILED')
    t.regex(insert.error?.message ?? '', /inserts need Lua scripting \(EVAL\), which this server refuses \(NOPERM/)
  })
}
