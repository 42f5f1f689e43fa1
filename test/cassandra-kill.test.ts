// Kill -9 and resume with a Cassandra sink and a Cassandra source (test/kill-helpers.ts): runs
// killed halfway through a batch write and halfway through a checkpoint write resume to an exact
// target. Every run is in insert mode: into Cassandra with `ifNotExists=true`, so that a row
// written again past the checkpoint's lease is refused (plain INSERTs would overwrite it
// silently); out of Cassandra into SQLite, where a row read twice is a refused duplicate key. The
// source's partitions are wide (80 rows each), so most positions fall inside one.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { cassandraScratch, cassandraUrl, cql, cqlMany, requireCassandra } from './cassandra.js'
import { itemsDb, query, range, tempDir } from './helpers.js'
import { finalStatus, type Kill, killAndResume, runChild } from './kill-helpers.js'

// The second kill comes early: a parallel resume of 8000 rows saves its checkpoint only a few times.
const kills: readonly Kill[] = [{ fault: 'sink-write:9' }, { fault: 'checkpoint-write:3' }]
const small = { BATCH_SIZE: '500', CHUNK_SIZE: '3000', CHECKPOINT_INTERVAL: '2000' }
const rows = 8000

if (await requireCassandra()) {
  const { keyspace, url } = cassandraScratch('kill')

  for (const strategy of ['chunked', 'parallel'] as const) {
    test(`sqlite → cassandra, ${strategy}: two kill -9 and a resume leave every row exactly once`, async (t) => {
      const dir = tempDir()
      const table = `items_${strategy}`
      const env = { ...small, SOURCE_URL: itemsDb(join(dir, 'items.db'), range(1, rows)), TARGET_URL: cassandraUrl(keyspace, '&ifNotExists=true'), TARGET_TABLE: table, STRATEGY: strategy, WORK_DIR: dir }
      const last = await killAndResume(t, env, kills)
      t.regex(last.output, new RegExp(`validation \\(checksum\\): source ${rows}, expected ${rows}, target ${rows}: passed`))
      const names = await cql(`SELECT name FROM ${keyspace}.${table}`)
      t.is(names.length, rows)
      t.true(names.every((r) => String(r.name).startsWith('ITEM ')), 'every row went through the transform')
      t.is(finalStatus(t, dir), 'SUCCESS')
    })
  }

  test.serial.before(async () => {
    await cql(`CREATE TABLE ${keyspace}.wide (p int, c int, name text, qty int, PRIMARY KEY ((p), c)) WITH CLUSTERING ORDER BY (c DESC)`)
    await cqlMany(`INSERT INTO ${keyspace}.wide (p, c, name, qty) VALUES (?, ?, ?, ?)`, range(0, rows - 1).map((i) => [i % 100, i, `item ${i}`, i % 7]))
  })

  for (const strategy of ['chunked', 'parallel'] as const) {
    test(`cassandra (wide partitions) → sqlite, ${strategy}: a read killed twice resumes inside its partition, exactly`, async (t) => {
      const dir = tempDir()
      const target = join(dir, 'target.db')
      // Batches of 350 rows, a checkpoint every 700: positions fall inside the 80-row partitions,
      // and nine batches on three workers leave one worker's position saved, whatever the schedule.
      const env = { ...small, BATCH_SIZE: '350', CHECKPOINT_INTERVAL: '700', SOURCE_URL: url, SOURCE_TABLE: 'wide', TARGET_URL: `sqlite:${target}`, STRATEGY: strategy, WORK_DIR: dir }
      const first = await runChild({ ...env, FERRY_FAULT: 'sink-write:9' })
      t.is(first.signal, 'SIGKILL', first.output)
      const state = readFileSync(join(dir, 'checkpoints', 'kill-pipeline.json'), 'utf8')
      t.regex(state, /"position":\{"t":"-?\d+","k":\[\d+\],"c":\[\d+\]\}/, 'a position is a token, a partition key and a clustering key')
      const second = await runChild({ ...env, FERRY_FAULT: 'checkpoint-write:3' }, ['--resume'])
      t.is(second.signal, 'SIGKILL', second.output)
      t.regex(second.output, /resuming from .*open at .*"c":\[/)
      const last = await runChild(env, ['--resume'])
      t.is(last.code, 0, last.output)
      t.regex(last.output, new RegExp(`validation \\(checksum\\): source ${rows}, expected ${rows}, target ${rows}: passed`))
      t.deepEqual(query(target, 'SELECT COUNT(*) AS n, COUNT(DISTINCT c) AS d, SUM(name = UPPER(name)) AS u FROM items_copy'), [{ n: rows, d: rows, u: rows }])
      t.is(finalStatus(t, dir), 'SUCCESS')
    })
  }
}
