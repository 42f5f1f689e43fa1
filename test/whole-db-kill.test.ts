// Issue 16: a whole-database copy killed with SIGKILL during a table's data, between two tables and
// during the index builds, then resumed, ends with the source's schema and data.
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { catalogOf, comparableTarget, shapeOf } from './catalog-shape.js'
import { fixtureSql, fixtureTables } from './fixtures/whole-db.js'
import { tempDir } from './helpers.js'
import { type Engine, type TestDb, testDb } from './kill-helpers.js'
import { dropNamespaces, requireServers } from './servers.js'

const copy = join(resolve(import.meta.dirname, '..'), 'src', 'cli', 'copy.ts')
const servers = await requireServers('postgres', 'mysql')
test.after.always(dropNamespaces)

function runCopy(cwd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; signal: string | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), copy, ...args], { cwd, env: { ...process.env, ...env } })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    child.on('error', fail)
    child.on('exit', (code, signal) => done({ code, signal, output }))
  })
}

const counts = async (db: TestDb) => Object.fromEntries(await Promise.all(fixtureTables.map(async (t) => [t, Number((await db.sql(`SELECT COUNT(*) AS n FROM ${t}`))[0]!.n)])))

async function killedThenResumed(t: ExecutionContext, from: Engine, to: Engine, fault: string, said: RegExp): Promise<void> {
  const dir = tempDir()
  const source = await testDb(from, dir, `ksrc_${fault.replace(/\W/g, '')}`)
  const target = await testDb(to, dir, `ktgt_${fault.replace(/\W/g, '')}`)
  await source.sql(...fixtureSql(from, 3000))
  const args = [source.url, target.url, '--name', 'killed', '--batch-size', '100', '--validate', 'checksum']
  const killed = await runCopy(dir, args, { FERRY_FAULT: fault })
  t.is(killed.signal, 'SIGKILL', killed.output)
  const resumed = await runCopy(dir, [...args, '--resume'])
  t.is(resumed.code, 0, resumed.output)
  t.regex(resumed.output, said)
  t.notRegex(resumed.output, /duplicate|already exists/i)
  t.deepEqual(await counts(target), await counts(source), 'every row once')
  const want = shapeOf(await catalogOf(source.url))
  t.deepEqual(comparableTarget(want, shapeOf(await catalogOf(target.url)), to === 'mysql'), want)
  t.deepEqual(readdirSync(join(dir, '.ferry', 'checkpoints')).filter((f) => !f.endsWith('.lock')), [], 'a finished copy leaves no checkpoint or schema file')
}

if (servers) {
  test('kill -9 during a table’s data (mysql → postgres), then --resume: the same schema and data', async (t) => {
    await killedThenResumed(t, 'mysql', 'postgres', 'sink-write:25', /resuming from .*chunks done|loaded by an earlier run/)
  })

  test('kill -9 between two tables (postgres → sqlite), then --resume: done tables are not loaded again', async (t) => {
    await killedThenResumed(t, 'postgres', 'sqlite', 'database-table-done:3', /loaded by an earlier run of this copy/)
  })

  test('kill -9 during the index builds (sqlite → mysql), then --resume: every index and foreign key once', async (t) => {
    await killedThenResumed(t, 'sqlite', 'mysql', 'schema-build:3', /loaded by an earlier run of this copy[\s\S]*added \d+ foreign key/)
  })
}
