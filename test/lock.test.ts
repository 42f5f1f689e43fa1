import { spawn } from 'node:child_process'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import test from 'ava'
import { takeLock } from '../src/lock.js'
import { runPipeline } from '../src/run.js'
import { itemsDb, query, range, tempDir, testSettings } from './helpers.js'
import { runChild } from './kill-helpers.js'
import { pgQuery, requireServers, servers } from './servers.js'

const repo = resolve(import.meta.dirname, '..')
const withPostgres = await requireServers('postgres')

test('a second run of a pipeline while the first runs is refused naming the holder (exit 2); the first ends exact', async (t) => {
  const dir = tempDir()
  const rows = 150_000
  const env = { SOURCE_URL: itemsDb(join(dir, 'source.db'), range(1, rows)), TARGET_URL: `sqlite:${join(dir, 'target.db')}`, WORK_DIR: dir }
  const first = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(repo, 'src', 'cli', 'main.ts'), join(repo, 'test', 'fixtures', 'kill-pipeline.ts')], {
    env: { ...process.env, ...env },
  })
  let output = ''
  const prepared = new Promise<void>((done) =>
    first.stdout.on('data', (d: Buffer) => {
      output += d.toString()
      if (/prepared/.test(output)) done()
    }),
  )
  const exited = new Promise<number | null>((done) => first.on('exit', (code) => done(code)))
  await prepared
  const second = await runChild(env)
  t.is(second.code, 2, second.output)
  t.regex(second.output, new RegExp(`is being run by pid ${first.pid} on .* \\(lock .*kill-pipeline\\.lock\\); wait for it to end, or if that run is gone, delete the lock file`))
  t.is(await exited, 0, output)
  t.regex(output, new RegExp(`validation \\(checksum\\): source ${rows}, expected ${rows}, target ${rows}: passed`))
  t.deepEqual(query(join(dir, 'target.db'), 'SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d FROM items_copy'), [{ n: rows, d: rows }])
  t.false(existsSync(join(dir, 'checkpoints', 'kill-pipeline.lock')), 'the lock goes with the run')
})

test('a lock left by a killed run does not block the next run', async (t) => {
  const dir = tempDir()
  const env = { SOURCE_URL: itemsDb(join(dir, 'source.db'), range(1, 20_000)), TARGET_URL: `sqlite:${join(dir, 'target.db')}`, WORK_DIR: dir }
  const killed = await runChild({ ...env, FERRY_FAULT: 'sink-write:5' })
  t.is(killed.signal, 'SIGKILL')
  t.true(existsSync(join(dir, 'checkpoints', 'kill-pipeline.lock')), 'SIGKILL left the lock')
  const next = await runChild(env, ['--resume'])
  t.is(next.code, 0, next.output)
  t.false(existsSync(join(dir, 'checkpoints', 'kill-pipeline.lock')))
})

if (withPostgres) {
  test('postgres: two pipelines writing one target table at once: the second is refused by the advisory lock', async (t) => {
    const table = `lock_${process.pid}_${Date.now().toString(36)}`
    await pgQuery(`CREATE TABLE ${table} (id bigint PRIMARY KEY, name text, qty int)`)
    try {
      const dirs = [tempDir(), tempDir()]
      const settings = (dir: string, name: string) =>
        testSettings(dir, { source: itemsDb(join(dir, 'source.db'), range(1, 30_000)), target: servers.postgres, sourceTable: 'items', targetTable: table }, name)
      const [a, b] = await Promise.all([runPipeline(settings(dirs[0]!, 'one')), new Promise((done) => setTimeout(done, 150)).then(() => runPipeline(settings(dirs[1]!, 'two')))])
      const refused = [a, b].filter((r) => r.error?.name === 'LockedError')
      t.is(refused.length, 1, `${a.status} ${a.error?.message ?? ''} / ${b.status} ${b.error?.message ?? ''}`)
      t.regex(refused[0]!.error!.message, new RegExp(`target table \`${table}\` in .* is locked by another run`))
      t.is([a, b].find((r) => r !== refused[0])!.status, 'SUCCESS')
    } finally {
      await pgQuery(`DROP TABLE ${table}`)
    }
  })
}

test('the files a killed lock taker leaves (its temp file, a stale lock moved aside) are removed by the next one', async (t) => {
  const dir = tempDir()
  const file = join(dir, 'p.lock')
  const dead = 2 ** 22 + 17 // above Linux's default pid_max: no such process
  writeFileSync(`${file}.${dead}.tmp`, '{}')
  writeFileSync(`${file}.stale-${dead}`, '{}')
  const release = await takeLock(file, { pipeline: 'p', table: 't' })
  t.deepEqual(readdirSync(dir), ['p.lock'])
  await release()
  t.deepEqual(readdirSync(dir), [])
})
