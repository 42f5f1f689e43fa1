import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { Checkpoint, loadCheckpoint } from '../src/checkpoint.js'
import { runPipeline } from '../src/run.js'
import { itemsDb, query, range, tempDir, testSettings } from './helpers.js'
import { failingAfter } from './sink-faults.js'

test('a failed run leaves a checkpoint; --resume continues from it without duplicates', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  const base = {
    source: itemsDb(join(dir, 'source.db'), range(1, 10_000)),
    sourceTable: 'items',
    writeMode: 'insert' as const,
    chunkSize: 3000,
    batchSize: 500,
    checkpointInterval: 1000,
  }
  const failed = await runPipeline(testSettings(dir, { ...base, target: failingAfter(target, 9) }))
  t.is(failed.status, 'FAILED')
  t.is(failed.error?.message, 'permission denied for table items')
  const file = join(dir, 'checkpoints', 'test.json')
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { chunk: number; ranges: { lastKey?: number; done?: boolean }[]; counts: { migrated: number } }
  t.like(saved, { chunk: 1, counts: { migrated: 4000 } })
  t.deepEqual(saved.ranges[0], { lte: 3000, done: true } as never)
  t.is(saved.ranges[1]!.lastKey, 4000)

  const other = await runPipeline(testSettings(dir, { ...base, target: failingAfter(target, Infinity), where: 'id > 10', resume: true }))
  t.is(other.error?.name, 'CheckpointError')
  t.regex(other.error!.message, /was written by other settings/)

  const resumed = await runPipeline(testSettings(dir, { ...base, target: failingAfter(target, Infinity), resume: true }))
  t.is(resumed.status, 'SUCCESS', resumed.error?.message)
  t.is(resumed.stats.migrated, 10_000)
  const log = readFileSync(resumed.logFile, 'utf8')
  t.regex(log, /resuming from .*1\/4 chunks done, 4000 rows done, last keys 4000/)
  t.deepEqual(query(target, 'SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM items'), [{ n: 10_000, d: 10_000 }])
  t.false(existsSync(file))
})

test('checkpoints are written atomically and keep bigint keys exact', async (t) => {
  const dir = tempDir()
  const file = join(dir, 'p.json')
  writeFileSync(`${file}.tmp-12345`, '{"half": ')
  const big = 2n ** 63n - 1n
  const checkpoint = new Checkpoint(
    { pipeline: 'p', table: 't', settingsHash: 'h', counts: { migrated: 0, failed: 0, skipped: 0, filtered: 0 }, ranges: [{ range: { lte: big }, done: false }, { range: { gt: big }, done: false }] },
    { file, interval: 10, enabled: true },
  )
  await checkpoint.advance(0, big - 5n, 10, { migrated: 10, failed: 0, skipped: 0, filtered: 0 })
  const loaded = await loadCheckpoint(file)
  t.is(loaded?.ranges[0]?.lastKey, big - 5n)
  t.is(loaded?.ranges[1]?.range.gt, big)
  t.false(existsSync(`${file}.tmp-12345`), 'a killed write leaves no stale temp file behind')
})
