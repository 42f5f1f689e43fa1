// Redis → Redis: without a transform each key is copied by DUMP/RESTORE (never decoded), its TTL
// kept; with one, rows are decoded and stored anew. Source database 12, target 13, own prefixes.
import test from 'ava'
import { runPipeline } from '../src/run.js'
import { runId } from './engines.js'
import { tempDir, testSettings } from './helpers.js'
import { dropRedisKeys, redisClient, redisUrl, requireServers, servers } from './servers.js'

const prefix = runId('rcp')
const from = servers.redis
const to = redisUrl(13)

if (await requireServers('redis')) {
  const source = redisClient(from)
  const target = redisClient(to)
  test.after.always(async () => {
    source.disconnect()
    target.disconnect()
    await dropRedisKeys(from, prefix)
    await dropRedisKeys(to, prefix)
  })

  const copy = (sourceTable: string, targetTable: string, extra: object = {}) =>
    runPipeline(testSettings(tempDir(), { source: from, target: to, sourceTable, targetTable, validate: 'checksum', batchSize: 7, ...extra }))

  /**
   * Every key of a source pattern has a target key with the same DUMP (a set's members sorted: a
   * hash-table set dumps them in its table's order), and a TTL no longer than the source's (the time
   * in flight is taken off; a second allowed for the send) and at most `slack` ms shorter.
   */
  async function sameKeys(t: import('ava').ExecutionContext, fromPrefix: string, toPrefix: string, ids: readonly string[], slack = 30_000) {
    for (const id of ids) {
      const [a, b] = [`${fromPrefix}${id}`, `${toPrefix}${id}`]
      if ((await source.type(a)) === 'set') t.deepEqual((await target.smembers(b)).sort(), (await source.smembers(a)).sort(), b)
      else t.deepEqual(await target.dumpBuffer(b), await source.dumpBuffer(a), `${b} restores ${a} byte for byte`)
      const [ta, tb] = [await source.pttl(a), await target.pttl(b)]
      if (ta === -1) t.is(tb, -1, `${b} does not expire`)
      else t.true(tb > 0 && tb <= ta + 1000 && tb >= ta - slack, `${b}: ttl ${tb} ms, source ${ta} ms`)
    }
  }

  test('each value type is copied by DUMP/RESTORE, TTLs kept, and checksums pass', async (t) => {
    const ids = Array.from({ length: 25 }, (_, i) => String(i))
    const p = source.pipeline()
    for (const id of ids) {
      p.hset(`${prefix}h:${id}`, { name: `n${id}`, bin: Buffer.from([0, 255, Number(id)]) })
      if (Number(id) % 3 === 0) p.pexpire(`${prefix}h:${id}`, 600_000 + Number(id))
      p.set(`${prefix}j:${id}`, JSON.stringify({ id: Number(id), tags: ['a', id] }), 'EX', 900)
      p.sadd(`${prefix}s:${id}`, 'x', id)
      p.rpush(`${prefix}l:${id}`, id, 'y', id)
      p.zadd(`${prefix}z:${id}`, Number(id), 'm', -1, 'n')
    }
    await p.exec()
    for (const kind of ['h', 'j', 's', 'l', 'z']) {
      const result = await copy(`${prefix}${kind}:{id}`, `${prefix}copy_${kind}:{id}`, { writeMode: 'insert' })
      t.is(result.status, 'SUCCESS', `${kind}: ${result.error?.message ?? JSON.stringify(result.validation)}`)
      t.is(result.stats.migrated, 25)
      await sameKeys(t, `${prefix}${kind}:`, `${prefix}copy_${kind}:`, ids)
    }
    const record = JSON.parse((await target.get(`ferry:schema:${prefix}copy_z:{id}`))!) as { storage: string }
    t.is(record.storage, 'zset', 'the target pattern records what its keys hold')
  })

  test('a copy into a pattern whose keys exist: upserts replace them, insert mode refuses one naming it', async (t) => {
    const ids = ['1', '2', '3', '4', '5']
    for (const id of ids) await source.hset(`${prefix}u:${id}`, { v: `new ${id}` })
    await target.hset(`${prefix}copy_u:3`, { v: 'old', extra: 'gone after the copy' })
    await target.pexpire(`${prefix}copy_u:3`, 5_000_000)
    const refused = await copy(`${prefix}u:{id}`, `${prefix}copy_u:{id}`, { writeMode: 'insert', validate: false })
    t.is(refused.status, 'FAILED')
    t.regex(refused.error?.message ?? '', new RegExp(`rejected the row with key '3': key \`${prefix}copy_u:3\` exists already`))
    const upserted = await copy(`${prefix}u:{id}`, `${prefix}copy_u:{id}`)
    t.is(upserted.status, 'SUCCESS', upserted.error?.message ?? JSON.stringify(upserted.validation))
    t.deepEqual(await target.hgetall(`${prefix}copy_u:3`), { v: 'new 3' })
    t.is(await target.pttl(`${prefix}copy_u:3`), -1, 'the source key does not expire, so neither does its copy')
    await sameKeys(t, `${prefix}u:`, `${prefix}copy_u:`, ids)
  })

  test('a target TTL replaces the copied one; a transform re-encodes rows; a format a copy cannot keep is refused', async (t) => {
    for (let i = 0; i < 10; i++) await source.hset(`${prefix}t:${i}`, { id: String(i), qty: String(i * 2) })
    const ttl = await copy(`${prefix}t:{id}`, `${prefix}ttl_t:{id}`, { target: `${to}?ttl=60` })
    t.is(ttl.status, 'SUCCESS', ttl.error?.message)
    const left = await target.pttl(`${prefix}ttl_t:4`)
    t.true(left > 30_000 && left <= 60_000, `ttl ${left}`)
    const refused = await copy(`${prefix}t:{id}`, `${prefix}json_t:{id}`, { target: `${to}?valueFormat=json` })
    t.is(refused.status, 'FAILED')
    t.regex(refused.error?.message ?? '', /rows copied from Redis without a transform are restored as they were \(hash\); add a transform to store them as json/)
    const reencoded = await copy(`${prefix}t:{id}`, `${prefix}json_t:{id}`, { target: `${to}?valueFormat=json`, transform: (r: Record<string, unknown>) => ({ ...r, qty: Number(r.qty) }) })
    t.is(reencoded.status, 'SUCCESS', reencoded.error?.message ?? JSON.stringify(reencoded.validation))
    t.deepEqual(JSON.parse((await target.get(`${prefix}json_t:4`))!), { id: '4', qty: 8 })
  })
}

