import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { Checkpoint, loadCheckpoint, writeAtomically } from '../src/checkpoint.js'
import { DoneRuns } from '../src/done-runs.js'
import { tupleFromJson, tupleToJson } from '../src/keys.js'
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
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { partitionsDone: number; done: unknown; open: unknown; counts: { migrated: number } }
  // 9 batches of 500 were committed; the file holds the position of the last save, and the lease
  // (checkpointInterval rows) a resume replays with upserts past it.
  t.like(saved, { partitionsDone: 1, counts: { migrated: 4000 } })
  t.deepEqual(saved.done, [[0, 0]])
  t.deepEqual(saved.open, [{ i: 1, position: [4000], lease: 1000 }])
  t.true(existsSync(join(dir, 'checkpoints', 'test.plan.json')), 'the plan is kept beside the checkpoint')

  const other = await runPipeline(testSettings(dir, { ...base, target: failingAfter(target, Infinity), where: 'id > 10', resume: true }))
  t.is(other.error?.name, 'CheckpointError')
  t.regex(other.error!.message, /was written by other settings/)

  const resumed = await runPipeline(testSettings(dir, { ...base, target: failingAfter(target, Infinity), resume: true }))
  t.is(resumed.status, 'SUCCESS', resumed.error?.message)
  t.is(resumed.stats.migrated, 10_000)
  const log = readFileSync(resumed.logFile, 'utf8')
  t.regex(log, /resuming from .*1\/4 chunks done, 4000 rows done, open at \[4000\]/)
  t.deepEqual(query(target, 'SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM items'), [{ n: 10_000, d: 10_000 }])
  t.false(existsSync(file))
  t.false(existsSync(join(dir, 'checkpoints', 'test.plan.json')))
})

const noCounts = { migrated: 0, failed: 0, skipped: 0, filtered: 0 }

function fresh(partitions: unknown[], file: string, interval = 10, done: Iterable<number> = []): Checkpoint {
  return new Checkpoint(
    { runId: 'r', pipeline: 'p', table: 't', settingsHash: 'h', partitions: partitions as never, done: new Set(done), open: new Map(), counts: noCounts },
    { file, interval, enabled: true },
  )
}

test('checkpoints are written atomically and keep bigint, binary and date keys exact', async (t) => {
  const dir = tempDir()
  const file = join(dir, 'p.json')
  writeFileSync(`${file}.tmp-12345`, '{"half": ')
  const big = 2n ** 63n - 1n
  const key = [big - 5n, Buffer.from([0, 255, 16]), new Date('2020-02-29T12:00:00.123Z'), 'é', -0]
  const checkpoint = fresh([{ lte: tupleToJson([big]) }, { gt: tupleToJson([big]) }], file)
  await checkpoint.beforeCommit(0, 10)
  checkpoint.committed(0, tupleToJson(key), 10, { ...noCounts, migrated: 10 })
  await checkpoint.save()
  const loaded = await loadCheckpoint(file)
  t.deepEqual(tupleFromJson(loaded!.open.get(0)!.position!), key)
  t.deepEqual(tupleFromJson((loaded!.partitions[1] as { gt: never }).gt), [big])
  t.false(existsSync(`${file}.tmp-12345`), 'a killed write leaves no stale temp file behind')
})

test('before a commit the lease of its partition is durable: a resume replays at most the lease', async (t) => {
  const dir = tempDir()
  const file = join(dir, 'p.json')
  const checkpoint = fresh([{}], file, 100)
  const leaseOnDisk = async () => (await loadCheckpoint(file))?.open.get(0)?.lease
  await checkpoint.beforeCommit(0, 60)
  t.is(await leaseOnDisk(), 100, 'the first commit of a partition waits for a save granting it a lease')
  checkpoint.committed(0, [60], 60, noCounts)
  await checkpoint.beforeCommit(0, 40)
  checkpoint.committed(0, [100], 40, noCounts)
  t.is((await loadCheckpoint(file))?.open.get(0)?.position, undefined, 'within the lease, commits need no save')
  await checkpoint.beforeCommit(0, 250)
  const saved = await loadCheckpoint(file)
  t.deepEqual(saved?.open.get(0), { position: [100], lease: 250 }, 'a batch larger than the lease widens it before it commits')

  const resumed = new Checkpoint(saved!, { file, interval: 100, enabled: true, planWritten: true })
  t.true(resumed.replaying(0))
  resumed.committed(0, [300], 200, noCounts)
  t.true(resumed.replaying(0))
  await resumed.save()
  t.is((await loadCheckpoint(file))?.open.get(0)?.lease, 100, 'a save during the replay keeps covering what is left of it')
  resumed.committed(0, [350], 50, noCounts)
  t.false(resumed.replaying(0))
})

test('a save writes what is open, not the history: its size does not grow with done partitions', async (t) => {
  const dir = tempDir()
  const sizes: number[] = []
  for (const n of [1000, 100_000]) {
    const file = join(dir, `p${n}.json`)
    const done = range(0, n - 6).filter((i) => i !== n - 10)
    const checkpoint = fresh(Array.from({ length: n }, (_, i) => ({ lte: [i] })), file, 10, done)
    await checkpoint.complete(n - 5)
    sizes.push(readFileSync(file).length)
    const loaded = await loadCheckpoint(file)
    t.is(loaded?.done.size, n - 5)
    t.false(loaded?.done.has(n - 10))
  }
  t.log(`state file sizes: ${sizes.join(' and ')} bytes`)
  t.true(sizes[1]! < sizes[0]! + 20, sizes.join(', '))
})

test('done partitions are kept as runs: adding and saving cost the same whichever partition is still open', (t) => {
  const runs = new DoneRuns([5, 3, 4, 9, 0])
  t.deepEqual(runs.runs(), [[0, 0], [3, 5], [9, 9]])
  runs.add(1)
  runs.add(2)
  runs.add(8)
  runs.add(4)
  t.deepEqual(runs.runs(), [[0, 5], [8, 9]])
  t.is(runs.size, 8)
  t.true(runs.has(8) && runs.has(0) && !runs.has(6) && !runs.has(10))
  // Partition 0 still open, every other one done: one run, not 99,999 indexes.
  const slow = new DoneRuns(range(1, 99_999))
  t.deepEqual(slow.runs(), [[1, 99_999]])
})

test('a fresh run discards an old checkpoint before it touches the target; a plan of another run is refused', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  const base = { source: itemsDb(join(dir, 'source.db'), range(1, 3000)), sourceTable: 'items', writeMode: 'insert' as const, chunkSize: 1000, batchSize: 500 }
  t.is((await runPipeline(testSettings(dir, { ...base, target: failingAfter(target, 3) }))).status, 'FAILED')
  const file = join(dir, 'checkpoints', 'test.json')
  t.true(existsSync(file))
  // A fresh truncating run that fails before its first save must not leave the old checkpoint.
  const fresh = await runPipeline(testSettings(dir, { ...base, writeMode: 'truncate', target: failingAfter(target, 0), before: () => { throw new Error('stop') } }))
  t.is(fresh.status, 'FAILED')
  t.false(existsSync(file), 'the old checkpoint is gone before the before step and the truncate')

  t.is((await runPipeline(testSettings(dir, { ...base, writeMode: 'truncate', target: failingAfter(target, 3) }))).status, 'FAILED')
  const plan = join(dir, 'checkpoints', 'test.plan.json')
  writeFileSync(plan, readFileSync(plan, 'utf8').replace(/"runId":"[^"]+"/, '"runId":"another"'))
  const resumed = await runPipeline(testSettings(dir, { ...base, target: failingAfter(target, Infinity), resume: true }))
  t.is(resumed.error?.name, 'CheckpointError')
  t.regex(resumed.error!.message, /its plan .* belongs to another run/)
})

test('a checkpoint write that fails names the file', async (t) => {
  const dir = tempDir()
  writeFileSync(join(dir, 'blocked'), '')
  const err = await t.throwsAsync(writeAtomically(join(dir, 'blocked', 'p.json'), '{}'), { name: 'CheckpointWriteError' })
  t.regex(err!.message, /^cannot write `.*blocked\/p\.json`: E[A-Z]+: /)
})
