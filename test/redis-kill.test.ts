// Kill -9 and resume with a Redis sink and a Redis source: runs killed halfway through a batch
// write and halfway through a checkpoint write resume to an exact target (test/kill-helpers.ts).
// Every run is in insert mode, where a row written twice is a refused key, not a silent upsert.
import test, { type ExecutionContext } from 'ava'
import { join } from 'node:path'
import { runId } from './engines.js'
import { itemsDb, query, range, tempDir } from './helpers.js'
import { finalStatus, type Kill, killAndResume, runChild } from './kill-helpers.js'
import { dropRedisKeys, redisClient, redisUrl, requireServers, servers } from './servers.js'

const kills: readonly Kill[] = [{ fault: 'sink-write:9' }, { fault: 'checkpoint-write:5' }]
const small = { BATCH_SIZE: '500', CHUNK_SIZE: '3000', CHECKPOINT_INTERVAL: '2000' }
const rows = 16_000
const prefix = runId('rkill')
const url = servers.redis

/** Every key of the pattern's prefix, with its `name` field (or JSON `name`). */
async function names(target: string, keyPrefix: string, json = false): Promise<Map<string, string>> {
  const redis = redisClient(target)
  try {
    const found = new Map<string, string>()
    for await (const keys of redis.scanStream({ match: `${keyPrefix}*`, count: 1000 }) as AsyncIterable<string[]>) {
      for (const key of keys) {
        const value = json ? (JSON.parse((await redis.get(key))!) as { name: string }).name : await redis.hget(key, 'name')
        found.set(key, value!)
      }
    }
    return found
  } finally {
    redis.disconnect()
  }
}

async function exactInRedis(t: ExecutionContext, target: string, keyPrefix: string, json = false): Promise<void> {
  const found = await names(target, keyPrefix, json)
  t.is(found.size, rows)
  t.true([...found.values()].every((n) => n === n.toUpperCase() && n.startsWith('ITEM ')), 'every row went through the transform')
}

if (await requireServers('redis')) {
  test.after.always(async () => {
    await dropRedisKeys(url, prefix)
    await dropRedisKeys(redisUrl(13), prefix)
  })

  for (const [strategy, format] of [['chunked', 'hash'], ['parallel', 'hash'], ['streaming', 'json']] as const) {
    test(`sqlite → redis (${format}), ${strategy}: two kill -9 and a resume leave every row exactly once`, async (t) => {
      const dir = tempDir()
      const source = itemsDb(join(dir, 'items.db'), range(1, rows))
      const keyPrefix = `${prefix}_${strategy}:`
      const target = `${url}?valueFormat=${format}`
      const env = { ...small, SOURCE_URL: source, TARGET_URL: target, TARGET_TABLE: `${keyPrefix}{id}`, STRATEGY: strategy, WORK_DIR: dir }
      const last = await killAndResume(t, env, kills)
      t.regex(last.output, new RegExp(`validation \\(checksum\\): source ${rows}, expected ${rows}, target ${rows}: passed`))
      await exactInRedis(t, url, keyPrefix, format === 'json')
      t.is(finalStatus(t, dir), 'SUCCESS')
    })
  }

  async function redisItems(keyPrefix: string): Promise<void> {
    const redis = redisClient()
    try {
      for (let i = 1; i <= rows; i += 2000) {
        const p = redis.pipeline()
        for (let n = i; n < i + 2000; n++) p.hset(`${keyPrefix}${n}`, { id: String(n), name: `item ${n}`, qty: String(n % 100) })
        await p.exec()
      }
    } finally {
      redis.disconnect()
    }
  }

  test('redis → sqlite: a SCAN read killed twice resumes from its cursor to an exact target', async (t) => {
    const dir = tempDir()
    const keyPrefix = `${prefix}_src:`
    await redisItems(keyPrefix)
    const target = join(dir, 'target.db')
    const env = { ...small, SOURCE_URL: url, SOURCE_TABLE: `${keyPrefix}{id}`, TARGET_URL: `sqlite:${target}`, WORK_DIR: dir }
    const last = await killAndResume(t, env, kills)
    t.regex(last.output, new RegExp(`validation \\(checksum\\): source ${rows}, expected ${rows}, target ${rows}: passed`))
    t.deepEqual(query(target, "SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d, SUM(name = UPPER(name)) AS u FROM items_copy"), [{ n: rows, d: rows, u: rows }])
    t.is(finalStatus(t, dir), 'SUCCESS')
  })

  test('redis → redis by DUMP/RESTORE: killed twice, resumed, every key copied once', async (t) => {
    const dir = tempDir()
    const keyPrefix = `${prefix}_raw:`
    await redisItems(keyPrefix)
    const copyPrefix = `${prefix}_rawcopy:`
    const env = { ...small, SOURCE_URL: url, SOURCE_TABLE: `${keyPrefix}{id}`, TARGET_URL: redisUrl(13), TARGET_TABLE: `${copyPrefix}{id}`, TRANSFORM: 'none', WORK_DIR: dir }
    const last = await killAndResume(t, env, kills)
    t.regex(last.output, new RegExp(`validation \\(checksum\\): source ${rows}, expected ${rows}, target ${rows}: passed`))
    const copied = await names(redisUrl(13), copyPrefix)
    t.is(copied.size, rows)
    t.is(copied.get(`${copyPrefix}77`), 'item 77')
    t.is(finalStatus(t, dir), 'SUCCESS')
  })

  // SCAN returns a key again when the keyspace shrinks between two calls. A run killed before the
  // shrink cannot know which keys it handed over: its resume must upsert to the end, or a key met
  // twice would be refused as a duplicate in insert mode.
  test('redis → sqlite: a resume after the keyspace shrank loses and duplicates nothing', async (t) => {
    const db = redisUrl(11)
    const dir = tempDir()
    const keyPrefix = `${prefix}_shrink:`
    const filler = `${prefix}_fill:`
    const redis = redisClient(db)
    t.teardown(() => redis.disconnect())
    t.teardown(() => dropRedisKeys(db, prefix))
    for (let i = 0; i < 200_000; i += 20_000) {
      const p = redis.pipeline()
      for (let n = i; n < i + 20_000; n++) p.set(`${filler}${n}`, '')
      if (i < 2000) for (let n = i; n < i + 2000; n++) p.hset(`${keyPrefix}${n}`, { id: String(n), name: `item ${n}`, qty: '1' })
      await p.exec()
    }
    const target = join(dir, 'target.db')
    const env = { BATCH_SIZE: '10', CHECKPOINT_INTERVAL: '10', SOURCE_URL: db, SOURCE_TABLE: `${keyPrefix}{id}`, TARGET_URL: `sqlite:${target}`, WORK_DIR: dir }
    const killed = await runChild({ ...env, FERRY_FAULT: 'sink-write:20' })
    t.is(killed.signal, 'SIGKILL', killed.output)
    for (let i = 0; i < 200_000; i += 20_000) await redis.unlink(...range(i, i + 19_999).map((n) => `${filler}${n}`))
    // Redis shrinks a sparse table in its cron (10 times a second by default).
    await new Promise((done) => setTimeout(done, 1500))
    const resumed = await runChild(env, ['--resume'])
    t.is(resumed.code, 0, resumed.output)
    t.regex(resumed.output, /validation \(checksum\): source 2000, expected 2000, target 2000: passed/)
    t.deepEqual(query(target, 'SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM items_copy'), [{ n: 2000, d: 2000 }])
    t.log(/SUCCESS: (\d+) migrated/.exec(resumed.output)?.[0] ?? resumed.output)
  })
}
