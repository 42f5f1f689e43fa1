// The distributed strategy on one machine: a 200,000-row table in 40 ranges on the local Redis,
// worked by three `ferry worker` processes while the planner follows. One worker is killed with
// kill -9 (or stopped with SIGSTOP past its lock, then woken) in the middle of a range; another
// worker finishes that range from the position stored in its job. The pipeline writes in insert
// mode, where a row written twice is a refused key that fails the run, not a silent upsert.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import test, { type ExecutionContext } from 'ava'
import { resolveSettings } from '../src/config.js'
import type { DistributedSummary } from '../src/distributed/job.js'
import { ConfigError, KeyError } from '../src/errors.js'
import { checkTargetKey } from '../src/target-schema.js'
import type { ColumnInfo } from '../src/types.js'
import { dropQueue, jobCount, printsWithin, queueHolds, rangeInProgress, removeRangeJob, startWorker, type WorkerChild } from './distributed-helpers.js'
import { runId } from './engines.js'
import { itemsDb, range, tempDir } from './helpers.js'
import { runChild } from './kill-helpers.js'
import { dropNamespaces, pgQueryAt, requireServers, scratchUrl, servers } from './servers.js'

const rows = 200_000
const lockMs = 2000
const queue = servers.redis
// Before any test is declared: ava takes no test declared after an await.
const ready = await requireServers('redis', 'postgres')

/** The report's table entry: its status, validation and what the planner learnt of the workers. */
interface ReportTable {
  status: string
  validation: { passed: boolean; mode: string }
  distributed: DistributedSummary
}

async function setUp(name: string) {
  const dir = tempDir()
  const source = itemsDb(join(dir, 'items.db'), range(1, rows))
  const target = await scratchUrl('postgres', `ferry_dist_${name}_${runId('x').toLowerCase()}`)
  const queueName = queueNamed(`dist-${name}`)
  const env = { SOURCE_URL: source, TARGET_URL: target, WORK_DIR: dir, CHUNK_SIZE: String(rows / 40), BATCH_SIZE: '500', CHECKPOINT_INTERVAL: '1000' }
  const workers = ['w1', 'w2', 'w3'].map((w) => startWorker(w, queue, queueName, env, lockMs))
  const planner = runChild(env, ['--strategy', 'distributed', '--queue', queue, '--queue-name', queueName])
  return { dir, target, queueName, workers, planner }
}

/** Equal counts, no key twice, checksum validation passed, and one report, written once. */
async function exact(t: ExecutionContext, dir: string, target: string, output: string): Promise<ReportTable> {
  const [count] = await pgQueryAt<{ n: string; keys: string }>(target, 'SELECT count(*) AS n, count(DISTINCT id) AS keys FROM items_copy')
  t.is(Number(count!.n), rows)
  t.is(Number(count!.keys), rows, 'no key twice')
  t.is(output.match(/validation \(checksum\): source \d+, expected \d+, target \d+: passed/g)?.length, 1, 'validated once')
  const reports = readdirSync(join(dir, 'reports')).filter((f) => f.endsWith('.json'))
  t.is(reports.length, 1, 'one report')
  const report = JSON.parse(readFileSync(join(dir, 'reports', reports[0]!), 'utf8')) as { summary: { status: string }; tables: ReportTable[] }
  t.is(report.summary.status, 'SUCCESS')
  return report.tables[0]!
}

/** The range the stopped worker held was finished by another, from its stored position, not its start. */
function resumedElsewhere(t: ExecutionContext, table: ReportTable, held: { index: number; rows: number }, from: string): void {
  const resumed = table.distributed.resumed.find((r) => r.range === held.index)
  t.truthy(resumed, `range ${held.index} was taken over: ${JSON.stringify(table.distributed.resumed)}`)
  t.is(resumed!.by, from)
  t.not(resumed!.worker, from)
  t.true(resumed!.rows >= held.rows, `resumed at ${resumed!.rows} rows, seen at ${held.rows} before the stop`)
  t.true(resumed!.rows > 0 && resumed!.rows < rows / 40, 'resumed inside the range')
  t.true(table.distributed.ranges >= 40 && table.distributed.ranges <= 41, `about 40 ranges: ${table.distributed.ranges}`)
}

const queueNames: string[] = []
/** A queue of the test's own, removed after the tests. */
const queueNamed = (prefix: string): string => {
  queueNames.push(runId(prefix))
  return queueNames.at(-1)!
}

const endAll = (workers: readonly WorkerChild[]) => Promise.all(workers.map((w) => w.end()))

test('the distributed strategy without a queue, or with refused rows set aside, is bad input naming the setting', (t) => {
  const base = { source: 'sqlite:a.db', target: 'sqlite:b.db', sourceTable: 'items', strategy: 'distributed' as const }
  t.throws(() => resolveSettings('p', base), { instanceOf: ConfigError, message: /needs a queue: set `queue: 'redis:\/\/host:6379\/0'` or pass --queue/ })
  t.throws(() => resolveSettings('p', { ...base, queue: 'redis://h:6379/0', onRejectedRow: 'skip' }), { instanceOf: ConfigError, message: /stops at a refused row/ })
  t.throws(() => resolveSettings('p', { ...base, queue: 'postgres://h/db' }), { instanceOf: ConfigError, message: /expected a Redis URL/ })
  t.is(resolveSettings('p', { ...base, queue: 'redis://h:6379/0' }).queueName, 'ferry')
})

test('with checkpoints off the distributed strategy still needs a unique target key: a range taken over is replayed with upserts', (t) => {
  const s = resolveSettings('p', { source: 'sqlite:a.db', target: 'sqlite:b.db', sourceTable: 'items', strategy: 'distributed', queue: 'redis://h:6379/0', checkpoints: false, writeMode: 'insert' })
  const keys = { source: ['id'], sourceColumns: [], origin: 'primary key', checkWhileReading: false, target: ['id'] } as const
  const column = { name: 'id', type: 'integer', nativeType: 'integer', nullable: false } as unknown as ColumnInfo
  const keyless = { table: 'items_copy', columns: [column], primaryKey: [], uniqueKeys: [] }
  t.throws(() => checkTargetKey(s, keys, keyless), { instanceOf: KeyError, message: /items_copy` has no primary key or unique constraint on \(`id`\)/ })
  t.notThrows(() => checkTargetKey({ ...s, strategy: 'chunked' }, keys, keyless))
})

if (ready) {
  test.after.always(dropNamespaces)
  test.after.always(() => Promise.all(queueNames.map((name) => dropQueue(queue, name))))

  test('3 workers, one killed with kill -9 mid-range: its range is finished by another from its stored position; the target is exact, validated and reported once', async (t) => {
    const { dir, target, queueName, workers, planner } = await setUp('kill')
    try {
      // Early in the range: it cannot end before the signal lands.
      const held = await rangeInProgress(queue, queueName, 'w1', rows / 40 / 2)
      workers[0]!.child.kill('SIGKILL')
      t.log(`killed w1 holding range ${held.index} at ${held.rows} rows`)
      const outcome = await planner
      t.is(outcome.code, 0, outcome.output)
      const table = await exact(t, dir, target, outcome.output)
      resumedElsewhere(t, table, held, 'w1')
      t.log(`rows per worker: ${JSON.stringify(table.distributed.workers)}`)
    } finally {
      await endAll(workers)
    }
  })

  test('3 workers, one stopped with SIGSTOP mid-range past its lock and woken after another took its range: its late writes are refused and the target is exact', async (t) => {
    const { dir, target, queueName, workers, planner } = await setUp('stop')
    try {
      // Early in the range: it cannot end before the signal lands.
      const held = await rangeInProgress(queue, queueName, 'w1', rows / 40 / 2)
      workers[0]!.child.kill('SIGSTOP')
      await sleep(lockMs * 3)
      workers[0]!.child.kill('SIGCONT')
      t.log(`stopped w1 holding range ${held.index} at ${held.rows} rows for ${lockMs * 3} ms`)
      const outcome = await planner
      t.is(outcome.code, 0, outcome.output)
      const table = await exact(t, dir, target, outcome.output)
      resumedElsewhere(t, table, held, 'w1')
      t.true(await printsWithin(workers[0]!, /lock lost|no longer this worker's/), `the woken worker learnt it lost the range:\n${workers[0]!.output()}`)
    } finally {
      await endAll(workers)
    }
  })

  test('a planner killed after enqueuing and run again adds no range twice; --status shows the ranges pending, then the active one with its worker; a worker stopped by SIGTERM hands its range on at its position', async (t) => {
    const dir = tempDir()
    const small = 20_000
    const env = {
      SOURCE_URL: itemsDb(join(dir, 'items.db'), range(1, small)),
      TARGET_URL: await scratchUrl('postgres', `ferry_dist_status_${runId('x').toLowerCase()}`),
      WORK_DIR: dir,
      CHUNK_SIZE: '2000',
      BATCH_SIZE: '200',
      CHECKPOINT_INTERVAL: '400',
    }
    const queueName = queueNamed('dist-status')
    // The local Redis has no password: ioredis warns and goes on, so the URL's password can be looked for.
    const secretQueue = queue.replace('redis://', 'redis://:hunter2secret@')
    const flags = ['--strategy', 'distributed', '--queue', secretQueue, '--queue-name', queueName]
    const killPlanner = new AbortController()
    const first = runChild(env, flags, killPlanner.signal)
    while ((await jobCount(queue, queueName)) === 0) await sleep(20)
    await sleep(300)
    killPlanner.abort()
    t.is((await first).signal, 'SIGKILL')
    const ranges = await jobCount(queue, queueName)
    t.false(await queueHolds(queue, queueName, 'hunter2secret'), 'no job holds the queue URL\'s password')
    const status = async () => (await runChild(env, [...flags, '--status'])).output
    t.regex(await status(), new RegExp(`${ranges} ranges: ${ranges} pending, 0 active, 0 done, 0 failed; 0 rows written`))
    const first1 = startWorker('w1', secretQueue, queueName, env, 10_000)
    const worker = startWorker('w2', secretQueue, queueName, env, 10_000)
    worker.child.kill('SIGSTOP')
    try {
      const held = await rangeInProgress(queue, queueName, 'w1', 1000)
      first1.child.kill('SIGSTOP')
      t.regex(await status(), new RegExp(`range ${held.index}: active on w1, \\d+ rows`))
      await first1.end()
      t.regex(first1.output(), /SIGTERM: stopping after the batches being written[\s\S]*worker w1 stopped/)
      worker.child.kill('SIGCONT')
      const resumed = runChild(env, [...flags, '--resume'])
      let most = 0
      for (let done = false; !done; await sleep(50)) {
        most = Math.max(most, await jobCount(queue, queueName))
        done = await Promise.race([resumed.then(() => true), sleep(0).then(() => false)])
      }
      t.is(most, ranges, 'the second planning added no job')
      const again = await resumed
      t.is(again.code, 0, again.output)
      t.notRegex(again.output + worker.output(), /hunter2secret/)
      t.regex(again.output, new RegExp(`validation \\(checksum\\): source ${small}, expected ${small}, target ${small}: passed`))
      t.is(await jobCount(queue, queueName), 0, 'a finished run removes its jobs')
      t.regex(again.output, new RegExp(`range ${ranges - 1} done`), 'the ranges the first planning put on the queue were the ones worked')
      t.regex(again.output, new RegExp(`range ${held.index} done by w2: \\d+ rows, resumed at \\d+ rows from w1's position`))
    } finally {
      await Promise.all([first1.end(), worker.end()])
    }
  })

  test('a resumed planner retries the ranges that failed and adds a range whose job was removed by hand again, written from its start as upserts; the target is exact', async (t) => {
    const dir = tempDir()
    const small = 20_000
    const env = {
      SOURCE_URL: itemsDb(join(dir, 'items.db'), range(1, small)),
      TARGET_URL: await scratchUrl('postgres', `ferry_dist_revive_${runId('x').toLowerCase()}`),
      WORK_DIR: dir,
      CHUNK_SIZE: '2000',
      BATCH_SIZE: '200',
      CHECKPOINT_INTERVAL: '400',
    }
    const queueName = queueNamed('dist-revive')
    const flags = ['--strategy', 'distributed', '--queue', queue, '--queue-name', queueName]
    const first = runChild(env, flags)
    const w1 = startWorker('w1', queue, queueName, env, lockMs)
    // A worker whose target has no such table: every range it takes fails for good.
    const elsewhere = await scratchUrl('postgres', `ferry_dist_elsewhere_${runId('x').toLowerCase()}`)
    let bad: WorkerChild | undefined
    const others: WorkerChild[] = []
    try {
      const held = await rangeInProgress(queue, queueName, 'w1', 1000)
      w1.child.kill('SIGKILL')
      bad = startWorker('bad', queue, queueName, { ...env, TARGET_URL: elsewhere }, lockMs)
      const failed = await first
      t.is(failed.code, 1, failed.output)
      t.regex(failed.output, /range \d+ of `items_copy` failed on bad/)
      // Besides the range removed below, at least one more failed for the resume to retry.
      while ((await jobCount(queue, queueName, 'failed')) < 2) await sleep(50)
      await bad.end()
      await removeRangeJob(queue, queueName, held.index)
      others.push(startWorker('w2', queue, queueName, env, lockMs), startWorker('w3', queue, queueName, env, lockMs))
      const again = await runChild(env, [...flags, '--resume'])
      t.is(again.code, 0, again.output)
      t.regex(again.output, new RegExp(`range ${held.index} has no job on queue .*written from its start as upserts`))
      t.regex(again.output, /failed before \(.*\): retried from its stored position/)
      t.regex(again.output, new RegExp(`validation \\(checksum\\): source ${small}, expected ${small}, target ${small}: passed`))
      const [count] = await pgQueryAt<{ n: string; keys: string }>(env.TARGET_URL, 'SELECT count(*) AS n, count(DISTINCT id) AS keys FROM items_copy')
      t.deepEqual([Number(count!.n), Number(count!.keys)], [small, small])
    } finally {
      await Promise.all([w1.end(), bad?.end(), ...others.map((w) => w.end())])
    }
  })
}
