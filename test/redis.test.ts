// The Redis sink and its round trips, on the real redis-server (database 12, keys of this run's prefix).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { runPipeline } from '../src/run.js'
import type { Row } from '../src/types.js'
import { compareRows, fixtureSchema, loadFixture, logicalShape, readAll } from './fixtures/types.js'
import { ferryIndex, runCli, runId } from './engines.js'
import { itemsDb, query, range, tempDir, testSettings } from './helpers.js'
import { dropRedisKeys, redisClient, requireServers, servers } from './servers.js'

const prefix = runId('rds')
const url = servers.redis

if (await requireServers('redis')) {
  test.after.always(() => dropRedisKeys(url, prefix))

  const byId = (rows: Row[]) => rows.sort((a, b) => Number(a.id) - Number(b.id))

  for (const format of ['hash', 'json'] as const) {
    const target = `${url}?valueFormat=${format}`

    test(`redis (${format}) hands the type fixture back exactly as it was written`, async (t) => {
      const table = `${prefix}fx_${format}:{id}`
      await loadFixture(target, table)
      const { schema, rows } = await readAll(url, table)
      t.deepEqual(logicalShape(schema), logicalShape(fixtureSchema(table)))
      t.deepEqual(schema.primaryKey, ['id'])
      compareRows(t, byId(rows), schema, format)
    })

    test(`every value and type survives SQLite → Redis (${format}) → SQLite, checksums passing both ways`, async (t) => {
      const dir = tempDir()
      const first = `sqlite:${join(dir, 'first.db')}`
      const back = `sqlite:${join(dir, 'back.db')}`
      await loadFixture(first, 'types')
      const table = `${prefix}rt_${format}:{id}`
      const common = { writeMode: 'recreate', validate: 'checksum', batchSize: 2, chunkSize: 2 } as const
      const there = await runPipeline(testSettings(join(dir, 'there'), { ...common, source: first, target, sourceTable: 'types', targetTable: table }))
      t.is(there.status, 'SUCCESS', there.error?.message ?? JSON.stringify(there.validation))
      const home = await runPipeline(testSettings(join(dir, 'back'), { ...common, source: url, target: back, sourceTable: table, targetTable: 'types' }))
      t.is(home.status, 'SUCCESS', home.error?.message ?? JSON.stringify(home.validation))
      t.is(home.stats.migrated, 5)
      const { schema, rows } = await readAll(back, 'types')
      t.deepEqual(logicalShape(schema), logicalShape(fixtureSchema('types')))
      compareRows(t, rows, schema, `SQLite → Redis (${format}) → SQLite`)
    })
  }

  test('NULL is a missing field and the empty string an empty one; a schema record names the types', async (t) => {
    const table = `${prefix}nul:{id}`
    await loadFixture(url, table)
    const redis = redisClient()
    try {
      t.deepEqual(await redis.hgetall(`${prefix}nul:4`), { id: '4' }, 'a row of NULLs is its key field alone')
      t.like(await redis.hgetall(`${prefix}nul:2`), { 'we"ird col': '', flag: 'false', i64: '-9223372036854775808' })
      t.false(Object.hasOwn(await redis.hgetall(`${prefix}nul:3`), 'flag'))
      const record = JSON.parse((await redis.get(`ferry:schema:${table}`))!) as { storage: string; key: string[]; columns: { name: string; type: string }[] }
      t.like(record, { storage: 'hash', key: ['id'] })
      t.is(record.columns.find((c) => c.name === 'amount')?.type, 'decimal')
    } finally {
      redis.disconnect()
    }
  })

  test('upserts write the columns rows carry: a NULL drops its field, the other fields stay', async (t) => {
    const dir = tempDir()
    const source = itemsDb(join(dir, 'items.db'), range(1, 30))
    const table = `${prefix}up:{id}`
    const first = await runPipeline(testSettings(join(dir, 'a'), { source, target: url, sourceTable: 'items', targetTable: table }))
    t.is(first.status, 'SUCCESS', first.error?.message)
    const again = await runPipeline(
      testSettings(join(dir, 'b'), { source, target: url, sourceTable: 'items', targetTable: table, validate: false, transform: (r: Row) => ({ id: r.id, qty: r.id === 3 ? null : 1000 }) }),
    )
    t.is(again.status, 'SUCCESS', again.error?.message)
    const redis = redisClient()
    try {
      t.deepEqual(await redis.hgetall(`${prefix}up:3`), { id: '3', name: 'item 3' })
      t.deepEqual(await redis.hgetall(`${prefix}up:4`), { id: '4', name: 'item 4', qty: '1000' })
    } finally {
      redis.disconnect()
    }
  })

  test('a JSON value is replaced whole, so rows that carry only some columns are refused before they drop the others', async (t) => {
    const dir = tempDir()
    const source = itemsDb(join(dir, 'items.db'), range(1, 10))
    const target = `${url}?valueFormat=json&ttl=120`
    const table = `${prefix}js:{id}`
    const first = await runPipeline(testSettings(join(dir, 'a'), { source, target, sourceTable: 'items', targetTable: table, validate: 'checksum' }))
    t.is(first.status, 'SUCCESS', first.error?.message)
    const redis = redisClient()
    try {
      t.deepEqual(JSON.parse((await redis.get(`${prefix}js:7`))!), { id: 7, name: 'item 7', qty: null })
      const ttl = await redis.pttl(`${prefix}js:7`)
      t.true(ttl > 60_000 && ttl <= 120_000, `ttl ${ttl}`)
      const partial = await runPipeline(testSettings(join(dir, 'b'), { source, target, sourceTable: 'items', targetTable: table, transform: (r: Row) => ({ id: r.id, qty: 1 }) }))
      t.is(partial.status, 'FAILED')
      t.regex(partial.error?.message ?? '', /stores each row as one JSON string, which a write replaces whole: rows without `name` would drop them/)
      t.deepEqual(JSON.parse((await redis.get(`${prefix}js:7`))!), { id: 7, name: 'item 7', qty: null })
    } finally {
      redis.disconnect()
    }
  })

  test('insert mode refuses an existing key as a rejected row naming the key; the other rows load', async (t) => {
    const dir = tempDir()
    const source = itemsDb(join(dir, 'items.db'), range(1, 40))
    const redis = redisClient()
    // Each run finds key 17 there already, written by a run of its own.
    const warm = async (table: string) => {
      const r = await runPipeline(testSettings(tempDir(), { source, target: url, sourceTable: 'items', targetTable: table, transform: (r: Row) => (r.id === 17 ? { ...r, name: 'kept' } : null), validate: false }))
      t.is(r.status, 'SUCCESS', r.error?.message)
    }
    try {
      // No validation: key 17 holds another value than the source's, which a checksum rightly reports.
      const settings = { source, target: url, sourceTable: 'items', writeMode: 'insert', batchSize: 16, validate: false } as const
      await warm(`${prefix}insf:{id}`)
      const failed = await runPipeline(testSettings(join(dir, 'b'), { ...settings, targetTable: `${prefix}insf:{id}` }))
      t.is(failed.status, 'FAILED')
      t.regex(failed.error?.message ?? '', new RegExp(`rejected the row with key 17: key \`${prefix}insf:17\` exists already`))
      await warm(`${prefix}ins:{id}`)
      const skipped = await runPipeline(testSettings(join(dir, 'c'), { ...settings, targetTable: `${prefix}ins:{id}`, onRejectedRow: 'skip', maxRejectedRows: 1 }))
      t.is(skipped.status, 'SUCCESS_WITH_REJECTS', skipped.error?.message)
      t.like(skipped.stats, { migrated: 39, failed: 1 })
      const file = readdirSync(join(dir, 'c', 'reports')).find((f) => f.endsWith('.rejected.jsonl'))!
      const [line] = readFileSync(join(dir, 'c', 'reports', file), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { key: unknown; error: string })
      t.like(line, { key: 17 })
      t.regex(line!.error, new RegExp(`key \`${prefix}ins:17\` exists already`))
      t.is(await redis.hget(`${prefix}ins:17`, 'name'), 'kept')
      t.is(await redis.hget(`${prefix}ins:18`, 'name'), 'item 18')
    } finally {
      redis.disconnect()
    }
  })

  test('a key pattern whose placeholders are not the target key is refused before anything is written', async (t) => {
    const dir = tempDir()
    const source = itemsDb(join(dir, 'items.db'), range(1, 5))
    const result = await runPipeline(testSettings(dir, { source, target: url, sourceTable: 'items', targetTable: `${prefix}bad:{item_id}` }))
    t.is(result.status, 'FAILED')
    t.regex(result.error?.message ?? '', /key pattern `.*bad:\{item_id\}` is made of `item_id`, but the target key is `id`: .* set `targetKey` to "item_id"/)
    const redis = redisClient()
    try {
      t.is(await redis.exists(`ferry:schema:${prefix}bad:{item_id}`), 0)
    } finally {
      redis.disconnect()
    }
  })

  test('a key part that holds the text after it in the pattern is a rejected row, never an ambiguous key', async (t) => {
    const dir = tempDir()
    const source = itemsDb(join(dir, 'items.db'), range(1, 6))
    const table = `${prefix}amb:{name}:x:{id}`
    const result = await runPipeline(
      testSettings(dir, { source, target: url, sourceTable: 'items', targetTable: table, targetKey: ['name', 'id'], transform: (r: Row) => ({ ...r, name: r.id === 4 ? 'a:x:b' : r.name }), onRejectedRow: 'skip', maxRejectedRows: 1, validate: 'checksum' }),
    )
    t.is(result.status, 'SUCCESS_WITH_REJECTS', result.error?.message ?? JSON.stringify(result.validation))
    t.like(result.stats, { migrated: 5, failed: 1 })
    t.deepEqual(query(join(dir, 'items.db'), 'SELECT COUNT(*) AS n FROM items'), [{ n: 6 }])
  })
}

if (await requireServers('redis')) {
  test('a dry run into and out of Redis prints the plan and writes nothing; a pattern off the key fails it', async (t) => {
    const dir = tempDir()
    itemsDb(join(dir, 'items.db'), range(1, 50))
    const redis = redisClient()
    await redis.hset(`${prefix}dry_src:1`, { name: 'x', qty: '1' })
    const file = join(dir, 'dry.ts')
    const pipeline = (tables: string) => `import { definePipeline } from '${ferryIndex}'
export default definePipeline({
  source: 'sqlite:${join(dir, 'items.db')}', target: '${url}?ttl=60',
  checkpointDir: '${join(dir, 'checkpoints')}', logDir: '${join(dir, 'logs')}', reportDir: '${join(dir, 'reports')}',
  tables: [${tables}],
})
`
    try {
      writeFileSync(file, pipeline(`{ sourceTable: 'items', targetTable: '${prefix}dry:{id}' }, { sourceTable: '${prefix}dry_src:{code}', source: '${url}', target: 'sqlite:${join(dir, 'back.db')}', targetTable: 'back' }`))
      const ok = await runCli(dir, [file, '--dry-run'])
      const output = ok.stdout + ok.stderr
      t.is(ok.code, 0, output)
      t.regex(output, new RegExp(`plan for items → ${prefix}dry:\\{id\\}`))
      t.regex(output, /rows: 50/)
      t.regex(output, /name +TEXT → hash field \(text\)/)
      t.regex(output, new RegExp(`plan for ${prefix}dry_src:\\{code\\} → back:[\\s\\S]*rows: 1[\\s\\S]*key: code \\(primary key\\) → code`))
      t.regex(output, /dry run: nothing was written/)
      t.is(await redis.exists(`ferry:schema:${prefix}dry:{id}`, `${prefix}dry:1`), 0)
      writeFileSync(file, pipeline(`{ sourceTable: 'items', targetTable: '${prefix}dry:{item_id}' }`))
      const bad = await runCli(dir, [file, '--dry-run'])
      t.is(bad.code, 2, bad.stdout + bad.stderr)
      t.regex(bad.stdout + bad.stderr, /key pattern `.*dry:\{item_id\}` is made of `item_id`, but the target key is `id`/)
    } finally {
      redis.disconnect()
    }
  })
}
