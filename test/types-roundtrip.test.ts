import { spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import test from 'ava'
import { ensureLegacyUsers, legacyUsers } from '../src/demo.js'
import { runPipeline } from '../src/run.js'
import { compareRows, fixtureSchema, loadFixture, logicalShape, readAll } from './fixtures/types.js'
import { exec, query, tempDir, testSettings } from './helpers.js'
import { dropNamespaces, dropTables, mysqlQuery, pgQuery, requireServers, scratchUrl, servers } from './servers.js'

const repo = resolve(import.meta.dirname, '..')

const run = `${process.pid.toString(36)}_${Date.now().toString(36)}`
const dir = tempDir('ferry-types-')
const engines = {
  postgres: servers.postgres,
  mysql: servers.mysql,
  sqlite: `sqlite:${join(dir, 'types.db')}`,
} as const
type Engine = keyof typeof engines

if (await requireServers('postgres', 'mysql')) {
  const fixture = (engine: Engine) => `types_${run}_${engine}`
  // Each engine's fixture table, created by its sink from the logical schema.
  const loaded = new Map<Engine, Promise<void>>()
  const ready = (engine: Engine) => {
    if (!loaded.has(engine)) loaded.set(engine, loadFixture(engines[engine], fixture(engine)))
    return loaded.get(engine)!
  }

  for (const from of Object.keys(engines) as Engine[]) {
    test(`${from} hands the fixture back exactly as it was written`, async (t) => {
      await ready(from)
      const { schema, rows } = await readAll(engines[from], fixture(from))
      t.deepEqual(logicalShape(schema), logicalShape(fixtureSchema(fixture(from))))
      t.deepEqual(schema.primaryKey, ['id'])
      compareRows(t, rows, schema, from)
    })

    for (const to of Object.keys(engines) as Engine[]) {
      test(`every value and type survives ${from} → ${to}`, async (t) => {
        await ready(from)
        const target = `types_${run}_${from}_to_${to}`
        const result = await runPipeline(
          testSettings(join(dir, `${from}-${to}`), {
            source: engines[from],
            target: engines[to],
            sourceTable: fixture(from),
            targetTable: target,
            writeMode: 'recreate',
            validate: 'checksum',
            batchSize: 2,
            chunkSize: 2,
          }),
        )
        t.is(result.status, 'SUCCESS', result.error?.message ?? JSON.stringify(result.validation))
        t.is(result.stats.migrated, 5)
        const { schema, rows } = await readAll(engines[to], target)
        t.deepEqual(logicalShape(schema), logicalShape(fixtureSchema(target)))
        compareRows(t, rows, schema, `${from} → ${to}`)
      })
    }
  }

  test('hostile table and column names move SQLite → PostgreSQL → MySQL → SQLite', async (t) => {
    const names = [`types_${run}_we"ird table`, `types_${run}_semi;colon --`, `types_${run}_back\`tick 'q'`]
    const first = join(dir, 'hostile.db')
    exec(first, `CREATE TABLE ${sqliteIdent(names[0]!)} ("id" INTEGER PRIMARY KEY, "order" TEXT, "select" INT, "we""ird col" TEXT);
      INSERT INTO ${sqliteIdent(names[0]!)} VALUES (1, 'a', 1, 'x'), (2, 'b', NULL, ''), (3, NULL, 3, 'z')`)
    const hops: [string, string, string, string][] = [
      [`sqlite:${first}`, engines.postgres, names[0]!, names[1]!],
      [engines.postgres, engines.mysql, names[1]!, names[2]!],
      [engines.mysql, `sqlite:${join(dir, 'hostile-back.db')}`, names[2]!, names[0]!],
    ]
    for (const [i, [source, target, sourceTable, targetTable]] of hops.entries()) {
      const result = await runPipeline(
        testSettings(join(dir, `hostile-${i}`), { source, target, sourceTable, targetTable, validate: 'checksum', writeMode: 'recreate', strategy: 'parallel', chunkSize: 1, numWorkers: 2 }),
      )
      t.is(result.status, 'SUCCESS', `${sourceTable} → ${targetTable}: ${result.error?.message}`)
      t.is(result.stats.migrated, 3)
    }
    const back = query(join(dir, 'hostile-back.db'), `SELECT * FROM ${sqliteIdent(names[0]!)} ORDER BY id`)
    t.deepEqual(back, [
      { id: 1, order: 'a', select: 1, 'we"ird col': 'x' },
      { id: 2, order: 'b', select: null, 'we"ird col': '' },
      { id: 3, order: null, select: 3, 'we"ird col': 'z' },
    ])
  })

  test('a table named by a reserved word moves SQLite → PostgreSQL → MySQL → SQLite', async (t) => {
    const first = join(dir, 'reserved.db')
    exec(first, `CREATE TABLE "select" ("order" INTEGER PRIMARY KEY, "from" TEXT); INSERT INTO "select" VALUES (1, 'a'), (2, NULL)`)
    const [pgUrl, myUrl] = await Promise.all([scratchUrl('postgres', `types_${run}_reserved`), scratchUrl('mysql', `types_${run}_reserved`)])
    const back = join(dir, 'reserved-back.db')
    for (const [i, [source, target]] of [[`sqlite:${first}`, pgUrl], [pgUrl, myUrl], [myUrl, `sqlite:${back}`]].entries()) {
      const result = await runPipeline(
        testSettings(join(dir, `reserved-${i}`), { source: source!, target: target!, sourceTable: 'select', primaryKey: 'order', validate: 'checksum' }),
      )
      t.is(result.status, 'SUCCESS', result.error?.message)
    }
    t.deepEqual(query(back, 'SELECT * FROM "select" ORDER BY "order"'), [{ order: 1, from: 'a' }, { order: 2, from: null }])
  })

  test('the users pipeline runs unchanged SQLite → PostgreSQL, PostgreSQL → MySQL and MySQL → PostgreSQL', async (t) => {
    const legacy = ensureLegacyUsers(join(dir, 'legacy.db'), 5000)
    const ns = `types_${run}_users`
    const [pgSource, mySource, pgFromSqlite, myFromPg, pgFromMy] = await Promise.all([
      scratchUrl('postgres', `${ns}_src`),
      scratchUrl('mysql', `${ns}_src`),
      scratchUrl('postgres', `${ns}_a`),
      scratchUrl('mysql', `${ns}_b`),
      scratchUrl('postgres', `${ns}_c`),
    ])
    // The demo's legacy users, copied as they are into each server's `users`.
    for (const target of [pgSource, mySource]) {
      const load = await runPipeline(testSettings(join(dir, 'users-load'), { source: legacy, target, sourceTable: 'users' }))
      t.is(load.status, 'SUCCESS', load.error?.message)
    }
    const runs = [
      [legacy, pgFromSqlite],
      [pgSource, myFromPg],
      [mySource, pgFromMy],
    ] as const
    await Promise.all(
      runs.map(async ([SOURCE_URL, TARGET_URL], i) => {
        const r = await cli(join(dir, `users-${i}`), ['users'], { SOURCE_URL, TARGET_URL })
        t.is(r.code, 0, r.output)
        t.regex(r.output, /validation \(checksum\): source 5000, expected 5000, target 5000: passed/)
      }),
    )
    const [user] = legacyUsers(1)
    const expected = {
      user_id: '1',
      full_name: `${user!.first_name.trim()} ${user!.last_name.trim()}`,
      email_address: user!.email.toLowerCase(),
      registration_date: user!.created_at,
      is_active: user!.status === 'active' ? '1' : '0',
    }
    for (const schema of [`${ns}_a`, `${ns}_c`]) {
      const rows = await pgQuery(
        `SELECT user_id::text, full_name, email_address, registration_date::text, is_active::text FROM "${schema}".users WHERE user_id = 1`,
      )
      t.deepEqual(rows, [expected], schema)
    }
    const rows = await mysqlQuery(
      `SELECT CAST(user_id AS CHAR) AS user_id, full_name, email_address, DATE_FORMAT(registration_date, '%Y-%m-%d %H:%i:%s') AS registration_date, CAST(is_active AS CHAR) AS is_active FROM \`${ns}_b\`.users WHERE user_id = 1`,
    )
    t.deepEqual(rows, [expected])
  })

  test.after.always(async () => {
    await dropTables(new RegExp(`^types_${run}_`))
    await dropNamespaces()
  })
}

function sqliteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** Runs the CLI as `npm run pipeline` does, so the pipeline file reads SOURCE_URL and TARGET_URL itself. */
function cli(cwd: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  mkdirSync(cwd, { recursive: true })
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(repo, 'src', 'cli', 'main.ts'), ...args], {
      cwd,
      env: { ...process.env, FERRY_PIPELINES: join(repo, 'pipelines'), ...env },
    })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    child.on('error', fail)
    child.on('exit', (code) => done({ code, output }))
  })
}
