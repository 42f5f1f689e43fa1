// Issue 10, item 12: the errors a new user meets first. `primaryKey` defaults to the source's
// declared key; `tables` takes plain table names; a missing `sourceTable` says what is needed;
// `writeMode: 'truncate'` on a table a foreign key references names the table and what to do; a
// dry run reports every table's problems in one pass.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import type { PipelineSettings } from '../src/config.js'
import { resolvePipeline, runPipeline } from '../src/run.js'
import { ferryIndex, runCli, runId } from './engines.js'
import { exec, itemsDb, query, range, tempDir, testSettings } from './helpers.js'
import { mysqlQuery, pgQuery, requireServers, servers } from './servers.js'

const withPostgres = await requireServers('postgres')
const withMysql = await requireServers('mysql')
const run = runId('cfg')

test('primaryKey defaults to the key the source table declares, not `id`', async (t) => {
  const dir = tempDir()
  const source = join(dir, 'source.db')
  exec(
    source,
    `CREATE TABLE films (film_code INTEGER PRIMARY KEY, title TEXT NOT NULL);
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250) INSERT INTO films SELECT i * 10, 'film ' || i FROM n`,
  )
  const target = join(dir, 'target.db')
  const result = await runPipeline(testSettings(dir, { source: `sqlite:${source}`, target: `sqlite:${target}`, sourceTable: 'films', chunkSize: 100, validate: 'checksum' }))
  t.is(result.status, 'SUCCESS', result.error?.message)
  t.is(result.stats.migrated, 250)
  t.deepEqual(query(target, 'SELECT COUNT(*) AS n, MIN(film_code) AS lo, MAX(film_code) AS hi FROM films'), [{ n: 250, lo: 10, hi: 2500 }])
})

test("tables: ['actor', 'film'] takes table names as entries and runs both", async (t) => {
  const dir = tempDir()
  const source = join(dir, 'source.db')
  itemsDb(source, range(1, 120), 'actor')
  itemsDb(source, range(1, 80), 'film')
  const target = join(dir, 'target.db')
  const settings = {
    source: `sqlite:${source}`,
    target: `sqlite:${target}`,
    checkpointDir: join(dir, 'checkpoints'),
    logDir: join(dir, 'logs'),
    reportDir: join(dir, 'reports'),
    tables: ['actor', 'film'],
  } as unknown as PipelineSettings
  // Throws today: "unknown setting `0`, `1`, …".
  const pipeline = resolvePipeline('names', settings)
  t.deepEqual(pipeline.tables.map((s) => s.sourceTable), ['actor', 'film'])
  const result = await runPipeline(pipeline)
  t.is(result.status, 'SUCCESS', result.error?.message)
  t.deepEqual(query(target, 'SELECT (SELECT COUNT(*) FROM actor) AS actor, (SELECT COUNT(*) FROM film) AS film'), [{ actor: 120, film: 80 }])
})

test('a pipeline without sourceTable or tables says that `sourceTable` or `tables` is needed', (t) => {
  const error = t.throws(() => resolvePipeline('bare', { source: 'sqlite:a.db', target: 'sqlite:b.db' } as PipelineSettings))
  const message = error?.message ?? ''
  t.notRegex(message, /expected string, received undefined/)
  t.regex(message, /`sourceTable`/)
  t.regex(message, /`tables`/)
})

if (withPostgres) {
  test.after.always(async () => {
    await pgQuery(`DROP TABLE IF EXISTS "${run}_child", "${run}_parent"`).catch(() => {})
  })

  test("writeMode 'truncate' on a table a foreign key references fails naming the table, the referencing table and what to do (postgres)", async (t) => {
    const dir = tempDir()
    await pgQuery(
      `CREATE TABLE "${run}_parent" (id integer PRIMARY KEY, name text NOT NULL, qty integer)`,
      `CREATE TABLE "${run}_child" (id integer PRIMARY KEY, parent_id integer REFERENCES "${run}_parent" (id))`,
    )
    const result = await runPipeline(
      testSettings(dir, { source: itemsDb(join(dir, 'source.db'), range(1, 50)), target: servers.postgres, sourceTable: 'items', targetTable: `${run}_parent`, writeMode: 'truncate' }),
    )
    t.is(result.status, 'FAILED')
    const message = result.error?.message ?? ''
    t.true(message.includes(`${run}_parent`), `names the table: ${message}`)
    t.true(message.includes(`${run}_child`), `names the table whose foreign key references it: ${message}`)
    t.regex(message, /writeMode|upsert|recreate|cascade/i, 'says what to do')
  })
}

if (withMysql) {
  test.after.always(async () => {
    await mysqlQuery(`DROP TABLE IF EXISTS \`${run}_child\``, `DROP TABLE IF EXISTS \`${run}_parent\``).catch(() => {})
  })

  test("writeMode 'truncate' on a table a foreign key references fails naming the table, the referencing table and what to do (mysql)", async (t) => {
    const dir = tempDir()
    await mysqlQuery(
      `CREATE TABLE \`${run}_parent\` (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, qty INT) ENGINE=InnoDB`,
      `CREATE TABLE \`${run}_child\` (id INT PRIMARY KEY, parent_id INT, FOREIGN KEY (parent_id) REFERENCES \`${run}_parent\` (id)) ENGINE=InnoDB`,
    )
    const result = await runPipeline(
      testSettings(dir, { source: itemsDb(join(dir, 'source.db'), range(1, 50)), target: servers.mysql, sourceTable: 'items', targetTable: `${run}_parent`, writeMode: 'truncate' }),
    )
    t.is(result.status, 'FAILED')
    const message = result.error?.message ?? ''
    t.true(message.includes(`${run}_parent`), `names the table: ${message}`)
    t.true(message.includes(`${run}_child`), `names the table whose foreign key references it: ${message}`)
    t.regex(message, /writeMode|upsert|recreate/i, 'says what to do')
  })
}

test('a dry run reports the problems of every table in one pass, not only the first', async (t) => {
  const dir = tempDir()
  const source = join(dir, 'source.db')
  itemsDb(source, range(1, 100), 'good')
  itemsDb(source, range(1, 100), 'keyless')
  const file = join(dir, 'three.ts')
  writeFileSync(
    file,
    `import { definePipeline } from '${ferryIndex}'
export default definePipeline({
  source: 'sqlite:${source}', target: 'sqlite:${join(dir, 'target.db')}',
  checkpointDir: '${join(dir, 'checkpoints')}', logDir: '${join(dir, 'logs')}', reportDir: '${join(dir, 'reports')}',
  tables: [
    { sourceTable: 'missing_table_one' },
    { sourceTable: 'good' },
    { sourceTable: 'keyless', primaryKey: 'no_such_key_column' },
    { sourceTable: 'good', targetTable: 'good_filtered', where: 'no_such_filter_column > 1' },
  ],
})
`,
  )
  const r = await runCli(dir, [file, '--dry-run'])
  const output = r.stdout + r.stderr
  t.not(r.code, 0, output)
  t.regex(output, /missing_table_one/, 'the missing table')
  t.regex(output, /no_such_key_column/, 'the bad key of the third table')
  t.regex(output, /no_such_filter_column/, 'the bad filter of the fourth table')
})

test('a malformed mysql URL is bad input that names it, its password redacted', async (t) => {
  const dir = tempDir()
  const result = await runPipeline(testSettings(dir, { source: itemsDb(join(dir, 'source.db'), range(1, 5)), target: 'mysql://u:s3cr3t@[::1/db', sourceTable: 'items' }))
  t.is(result.error?.name, 'ConfigError')
  t.regex(result.error?.message ?? '', /`mysql:\/\/u:\*\*\*@\[::1\/db` is not a valid mysql URL/)
  t.notRegex(result.error?.message ?? '', /s3cr3t/)
})
