// Issue 16: the whole-database settings: names folded to lower case, MySQL's tinyint(1) and zero
// dates, a target database created when missing, and the dry run's plan.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { dryRunDatabase } from '../src/database/dry-run-database.js'
import { createLogger } from '../src/log.js'
import { resolvePipeline, runPipeline } from '../src/run.js'
import { fixtureSql } from './fixtures/whole-db.js'
import { exec, query, tempDir } from './helpers.js'
import { testDb } from './kill-helpers.js'
import { dropNamespaces, mysqlQuery, pgQuery, requireServers, servers } from './servers.js'

const withServers = await requireServers('postgres', 'mysql')
const files = (dir: string) => ({ checkpointDir: `${dir}/checkpoints`, logDir: `${dir}/logs`, reportDir: `${dir}/reports`, progressInterval: 60_000 })
test.after.always(dropNamespaces)

test('identifierCase lower: tables, columns, indexes and foreign keys folded, rows checked by checksum', async (t) => {
  const dir = tempDir()
  exec(join(dir, 'src.db'), `CREATE TABLE "Author" ("AuthorId" INTEGER PRIMARY KEY, "FullName" VARCHAR(40) NOT NULL DEFAULT 'x');
    CREATE TABLE "Book" ("BookId" INT PRIMARY KEY, "AuthorId" INT NOT NULL REFERENCES "Author" ("AuthorId"), "Title" TEXT CHECK (length("Title") > 0));
    CREATE INDEX "Book_Title" ON "Book" ("Title");
    INSERT INTO "Author" VALUES (1, 'A'), (2, 'B'); INSERT INTO "Book" VALUES (10, 2, 'T1'), (11, 1, 'T2');`)
  const result = await runPipeline(resolvePipeline('fold', { source: `sqlite:${join(dir, 'src.db')}`, target: `sqlite:${join(dir, 'out.db')}`, tables: 'all', identifierCase: 'lower', validate: 'checksum', ...files(dir) }))
  t.is(result.status, 'SUCCESS', result.error?.message)
  const out = join(dir, 'out.db')
  t.deepEqual(query(out, "SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name").map((r) => r.name), ['author', 'book', 'book_title'])
  t.deepEqual(query(out, 'SELECT bookid, authorid, title FROM book ORDER BY bookid'), [{ bookid: 10, authorid: 2, title: 'T1' }, { bookid: 11, authorid: 1, title: 'T2' }])
  const book = String(query<{ sql: string }>(out, "SELECT sql FROM sqlite_master WHERE name = 'book'")[0]!.sql)
  t.regex(book, /REFERENCES "author" \("authorid"\)/)
  t.regex(book, /CHECK \(LENGTH\("title"\) > 0\)/)
})

test('the dry run of a whole database prints the plan in load order and writes nothing', async (t) => {
  const dir = tempDir()
  const source = await testDb('sqlite', dir, 'dry')
  await source.sql(...fixtureSql('sqlite', 30))
  const { logger, file } = createLogger({ pipeline: 'dry', logDir: join(dir, 'logs'), level: 'info', console: false, stamp: 'dry' })
  const plans = await dryRunDatabase(resolvePipeline('dry', { source: source.url, target: `sqlite:${join(dir, 'out.db')}`, tables: 'all', ...files(dir) }), logger)
  t.is(plans.length, 10)
  t.false(existsSync(join(dir, 'out.db')), 'no target file')
  const log = readFileSync(file, 'utf8')
  t.regex(log, /plan of the whole database \(10 table\(s\)\), in load order: (\w+, ){9}\w+/)
  t.regex(log, /foreign key shipment_line \(order_id, line\) → order_line \(order_id, line\)/)
  t.regex(log, /index orders_store_day \(store_id, ordered_on DESC\)/)
  t.regex(log, /status: default 'active'/)
  t.regex(log, /not copied: view `active_products`/)
  t.regex(log, /dry run: nothing was written/)
})

if (withServers) {
  test('MySQL tinyint(1) holding 2 becomes a small integer, zero dates NULL; the missing target database is created', async (t) => {
    const dir = tempDir()
    const source = await testDb('mysql', dir, 'quirks')
    await source.sql(
      "SET SESSION sql_mode = ''",
      "CREATE TABLE flags (id INT PRIMARY KEY, yes BOOLEAN NOT NULL, level TINYINT(1) NOT NULL, born DATE NOT NULL DEFAULT '0000-00-00', seen DATETIME NULL)",
      "INSERT INTO flags VALUES (1, 1, 0, '0000-00-00', '0000-00-00 00:00:00'), (2, 0, 2, '2020-01-31', '2021-02-03 04:05:06'), (3, 1, 1, '2020-00-10', NULL)",
    )
    const database = `ferry_created_${process.pid}`
    await pgQuery(`DROP DATABASE IF EXISTS ${database}`)
    const target = new URL(servers.postgres)
    target.pathname = `/${database}`
    try {
      const result = await runPipeline(resolvePipeline('quirks', { source: source.url, target: target.toString(), tables: 'all', zeroDates: 'null', validate: 'checksum', ...files(dir) }))
      t.is(result.status, 'SUCCESS', result.error?.message)
      const client = new (await import('pg')).default.Client({ connectionString: target.toString() })
      await client.connect()
      try {
        const { rows } = await client.query('SELECT id, yes, level, born::text, seen::text FROM flags ORDER BY id')
        t.deepEqual(rows, [
          { id: 1, yes: true, level: 0, born: null, seen: null },
          { id: 2, yes: false, level: 2, born: '2020-01-31', seen: '2021-02-03 04:05:06' },
          { id: 3, yes: true, level: 1, born: null, seen: null },
        ])
      } finally {
        await client.end()
      }
      t.regex(readFileSync(result.logFile, 'utf8'), /`flags\.level` is tinyint\(1\) but 1 row\(s\) hold a value other than 0 and 1/)
    } finally {
      await pgQuery(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
      await mysqlQuery('SELECT 1')
    }
  })
}
