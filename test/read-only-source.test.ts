import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { createSink as mysqlSink } from '../sinks/mysql/mysql-sink.js'
import { createSink as pgSink } from '../sinks/postgres.js'
import { ferryIndex, runCli } from './engines.js'
import { tempDir } from './helpers.js'
import { dropNamespaces, mysqlQueryAt, pgQueryAt, requireServers, scratchUrl } from './servers.js'

// Issue 11, item 7: the source side cannot write. Source sessions are read-only transactions
// taking one statement a query, and a dry run opens the target read-only too: a `where` that
// smuggles in a statement, or calls a function that writes, fails naming the setting, and both
// databases are left as they were.

const run = `ro_${process.pid.toString(36)}_${Date.now().toString(36)}`
const smuggled = 'true); DROP TABLE victim; SELECT (1'

function pipelineFile(dir: string, source: string, target: string, where: string): string {
  const file = join(dir, 'filtered.ts')
  writeFileSync(
    file,
    `import { definePipeline } from '${ferryIndex}'
export default definePipeline({
  source: ${JSON.stringify(source)}, target: ${JSON.stringify(target)}, sourceTable: 'items', where: ${JSON.stringify(where)},
  checkpointDir: '${join(dir, 'checkpoints')}', logDir: '${join(dir, 'logs')}', reportDir: '${join(dir, 'reports')}',
})
`,
  )
  return file
}

const pgReady = await requireServers('postgres')
const mysqlReady = await requireServers('mysql')

test.after.always(async () => {
  await dropNamespaces()
})

if (pgReady) {
  const writer = `CREATE FUNCTION ferry_write() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN INSERT INTO victim VALUES (1); RETURN true; END $$`
  const setUp = async (name: string) => {
    const source = await scratchUrl('postgres', `${run}_${name}_src`)
    const target = await scratchUrl('postgres', `${run}_${name}_tgt`)
    await pgQueryAt(source, 'CREATE TABLE items AS SELECT g AS id, g::text AS name FROM generate_series(1, 50) g', 'ALTER TABLE items ADD PRIMARY KEY (id)', 'CREATE TABLE victim (id int)', writer)
    await pgQueryAt(target, 'CREATE TABLE victim (id int)', writer)
    return { source, target }
  }
  const tables = async (url: string) =>
    (await pgQueryAt<{ t: string }>(url, 'SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1')).map((r) => r.t)
  const victimRows = async (url: string) => (await pgQueryAt<{ n: number }>(url, 'SELECT count(*)::int AS n FROM victim'))[0]!.n

  for (const [what, args] of [['--dry-run', ['--dry-run']], ['a run', []]] as const) {
    test(`postgres: ${what} with a statement smuggled into \`where\` fails naming the setting; both databases unchanged`, async (t) => {
      const dir = tempDir()
      const { source, target } = await setUp(what === 'a run' ? 'run' : 'dry')
      const out = await runCli(dir, [pipelineFile(dir, source, target, smuggled), ...args])
      t.is(out.code, 2, out.stdout + out.stderr)
      t.regex(out.stdout, /setting `where` \(true\); DROP TABLE victim; SELECT \(1\) does not work on `items`: cannot insert multiple commands into a prepared statement; a filter is one SQL condition/)
      t.deepEqual(await tables(source), ['items', 'victim'])
      t.deepEqual(await tables(target), ['victim'])
    })
  }

  test('postgres: --dry-run with a `where` calling a function that writes fails: the source session is read-only', async (t) => {
    const dir = tempDir()
    const { source, target } = await setUp('fn')
    const out = await runCli(dir, [pipelineFile(dir, source, target, 'ferry_write()'), '--dry-run'])
    t.is(out.code, 2, out.stdout + out.stderr)
    t.regex(out.stdout, /setting `where` \(ferry_write\(\)\) does not work on `items`: cannot execute INSERT in a read-only transaction; ferry reads the source in read-only transactions \(PostgreSQL `default_transaction_read_only=on`/)
    t.is(await victimRows(source), 0)
    t.deepEqual(await tables(target), ['victim'])
  })

  test('postgres: a target opened read-only (as dry runs open it) cannot write', async (t) => {
    const target = await scratchUrl('postgres', `${run}_rosink`)
    const sink = pgSink(target, { readOnly: true })
    await sink.open()
    t.teardown(() => sink.close())
    await t.throwsAsync(sink.execute!('CREATE TABLE written (id int)'), { message: /read-only transaction/ })
    t.deepEqual(await tables(target), [])
  })
}

if (mysqlReady) {
  const setUp = async (name: string) => {
    const source = await scratchUrl('mysql', `${run}_${name}_src`)
    const target = await scratchUrl('mysql', `${run}_${name}_tgt`)
    const writer = 'CREATE FUNCTION ferry_write() RETURNS INT MODIFIES SQL DATA BEGIN INSERT INTO victim VALUES (1); RETURN 1; END'
    await mysqlQueryAt(source, 'CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(10))', 'INSERT INTO items VALUES (1, "a"), (2, "b")', 'CREATE TABLE victim (id INT)', writer)
    await mysqlQueryAt(target, 'CREATE TABLE victim (id INT)')
    return { source, target }
  }
  const tables = async (url: string) => (await mysqlQueryAt<{ t: string }>(url, 'SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1')).map((r) => r.t)

  test('mysql: --dry-run with a `where` calling a function that writes fails: the source session is read-only; both databases unchanged', async (t) => {
    const dir = tempDir()
    const { source, target } = await setUp('fn')
    const out = await runCli(dir, [pipelineFile(dir, source, target, 'ferry_write() = 1'), '--dry-run'])
    t.is(out.code, 2, out.stdout + out.stderr)
    t.regex(out.stdout, /setting `where` \(ferry_write\(\) = 1\) does not work on `items`: Cannot execute statement in a READ ONLY transaction.*; ferry reads the source in read-only transactions/)
    t.deepEqual(await mysqlQueryAt(source, 'SELECT COUNT(*) AS n FROM victim'), [{ n: 0 }])
    t.deepEqual(await tables(target), ['victim'])
  })

  test('mysql: --dry-run with a statement smuggled into `where` fails (one statement a query); both databases unchanged', async (t) => {
    const dir = tempDir()
    const { source, target } = await setUp('smuggled')
    const out = await runCli(dir, [pipelineFile(dir, source, target, smuggled), '--dry-run'])
    t.is(out.code, 2, out.stdout + out.stderr)
    t.regex(out.stdout, /setting `where` \(true\); DROP TABLE victim; SELECT \(1\) does not work on `items`: You have an error in your SQL syntax/)
    t.deepEqual(await tables(source), ['items', 'victim'])
    t.deepEqual(await tables(target), ['victim'])
  })

  test('mysql: a target opened read-only (as dry runs open it) cannot write', async (t) => {
    const target = await scratchUrl('mysql', `${run}_rosink`)
    const sink = mysqlSink(target, { readOnly: true })
    await sink.open()
    t.teardown(() => sink.close())
    await t.throwsAsync(sink.execute!('CREATE TABLE written (id INT)'), { message: /READ ONLY transaction/ })
    t.deepEqual(await tables(target), [])
  })
}
