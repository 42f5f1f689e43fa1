import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { createSource } from '../sources/postgres.js'
import { dryRun } from '../src/dry-run.js'
import { createLogger } from '../src/log.js'
import { resolvePipeline, runPipeline } from '../src/run.js'
import type { Json } from '../src/types.js'
import { tempDir, testSettings } from './helpers.js'
import { dropNamespaces, pgQueryAt, requireServers, scratchUrl } from './servers.js'

const run = `ferry_raw_${process.pid.toString(36)}`

// Values COPY escapes (tab, newline, backslash, CR), NULLs, non-ASCII text, bytes, JSON, exact
// decimals and timestamps: what the raw text must carry unchanged.
const create = `CREATE TABLE src (
  id bigint PRIMARY KEY, name text NOT NULL, note varchar(40), amount numeric(12,3), ok boolean,
  at timestamptz, day date, doc jsonb, raw bytea, score double precision)`
const fill = `INSERT INTO src SELECT i, 'name ' || i || CASE i % 5 WHEN 0 THEN E'\\ttab' WHEN 1 THEN E'\\nline' WHEN 2 THEN E'back\\\\slash' WHEN 3 THEN E'cr\\r' ELSE ' Ünïcødé ✓' END,
  CASE WHEN i % 7 = 0 THEN NULL ELSE 'note ' || i END, (i * 1.125)::numeric(12,3), i % 2 = 0,
  timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second 1 microsecond', date '2020-01-01' + i,
  jsonb_build_object('i', i, 's', E'q"\\\\'), decode(lpad(to_hex(i), 8, '0'), 'hex'), i / 3.0
  FROM generate_series(1, $1::int) i`
const sameRows = 'SELECT (SELECT count(*) FROM (SELECT * FROM src EXCEPT SELECT * FROM dst) d)::int AS missing, (SELECT count(*) FROM (SELECT * FROM dst EXCEPT SELECT * FROM src) d)::int AS extra'

async function database(name: string, rows: number): Promise<string> {
  const url = await scratchUrl('postgres', `${run}_${name}`)
  await pgQueryAt(url, create, [fill, [rows]], 'CREATE TABLE dst (LIKE src INCLUDING ALL)')
  return url
}

if (await requireServers('postgres')) {
  test.after.always(dropNamespaces)

  for (const strategy of ['streaming', 'chunked', 'parallel'] as const) {
    test(`postgres → postgres ${strategy} without a transform takes the raw path and the target equals the source`, async (t) => {
      const url = await database(strategy, 5000)
      const dir = tempDir()
      const result = await runPipeline(
        testSettings(dir, { source: url, target: url, sourceTable: 'src', targetTable: 'dst', strategy, chunkSize: 1500, numWorkers: 2, batchSize: 400, writeMode: 'insert', validate: 'checksum' }),
      )
      t.is(result.status, 'SUCCESS', result.error?.message)
      t.is(result.stats.migrated, 5000)
      t.true(result.validation?.passed)
      t.regex(logOf(dir), /path: raw passthrough \(postgres-copy-text, rows never decoded\)/)
      t.deepEqual(await pgQueryAt(url, sameRows), [{ missing: 0, extra: 0 }])
    })
  }

  test('raw pages end at batchBytes as well as batchSize, and report the positions the decoded read reports', async (t) => {
    const url = await database('positions', 3000)
    const source = createSource(url)
    await source.open()
    try {
      const spec = { table: 'src', key: ['id'], partition: {} as Json, pageSize: 500 }
      const decoded: Json[] = []
      for await (const page of source.read(spec)) decoded.push(page.position)
      const raw: { position: Json; rows: number; bytes: number }[] = []
      for await (const page of source.raw.read(spec)) raw.push(await page.whole)
      t.deepEqual(raw.map((p) => p.position), decoded)
      t.true(raw.every((p) => p.rows === 500))
      const small: { rows: number; bytes: number }[] = []
      for await (const page of source.raw.read({ ...spec, pageBytes: 10_000, after: [1000] })) small.push(await page.whole)
      t.is(small.reduce((n, p) => n + p.rows, 0), 2000)
      t.true(small.length > 4, `${small.length} pages`)
      // A page ends at the row that reaches the budget: never more than one row past it.
      t.true(small.every((p) => p.bytes < 10_000 + 300), JSON.stringify(small.map((p) => p.bytes)))
    } finally {
      await source.close()
    }
  })

  test('raw pages decode to the rows the decoded read hands over', async (t) => {
    const url = await database('decode', 200)
    const source = createSource(url)
    await source.open()
    try {
      const spec = { table: 'src', key: ['id'], partition: {} as Json, pageSize: 1000 }
      const rows = []
      for await (const page of source.read(spec)) rows.push(...page.rows)
      const decoded = []
      for await (const page of source.raw.read(spec)) decoded.push(...(await page.whole).decode())
      t.deepEqual(decoded, rows)
    } finally {
      await source.close()
    }
  })

  test('a raw batch the target refuses is decoded and split: the refused rows are set aside, the others load', async (t) => {
    const url = await database('refused', 2000)
    await pgQueryAt(url, 'ALTER TABLE dst ADD CONSTRAINT small CHECK (id % 500 <> 0)')
    const dir = tempDir()
    const result = await runPipeline(
      testSettings(dir, { source: url, target: url, sourceTable: 'src', targetTable: 'dst', batchSize: 300, writeMode: 'insert', onRejectedRow: 'skip', maxRejectedRows: 10 }),
    )
    t.is(result.status, 'SUCCESS_WITH_REJECTS', result.error?.message)
    t.is(result.stats.migrated, 1996)
    t.is(result.stats.failed, 4)
    t.regex(logOf(dir), /path: raw passthrough/)
    const report = JSON.parse(readFileSync(result.reportFile, 'utf8')) as { summary: { rejectedRowsFile: string } }
    const rejected = readFileSync(report.summary.rejectedRowsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { key: number; error: string })
    t.deepEqual(rejected.map((r) => r.key), [500, 1000, 1500, 2000])
    t.regex(rejected[0]!.error, /violates check constraint "small"/)
    t.deepEqual(await pgQueryAt(url, 'SELECT count(*)::int AS n FROM (SELECT * FROM src EXCEPT SELECT * FROM dst) d'), [{ n: 4 }])
  })

  test('upsert mode on the raw path updates rows already in the target', async (t) => {
    const url = await database('upsert', 1000)
    await pgQueryAt(url, "INSERT INTO dst SELECT * FROM src WHERE id <= 400", "UPDATE dst SET name = 'stale'")
    const dir = tempDir()
    const result = await runPipeline(testSettings(dir, { source: url, target: url, sourceTable: 'src', targetTable: 'dst', batchSize: 300 }))
    t.is(result.status, 'SUCCESS', result.error?.message)
    t.regex(logOf(dir), /path: raw passthrough/)
    t.deepEqual(await pgQueryAt(url, sameRows), [{ missing: 0, extra: 0 }])
  })

  test('passthrough: false, a transform, or columns of another type take the decoded path, and the log says why', async (t) => {
    const url = await database('decoded', 300)
    const cases = [
      [{ passthrough: false }, /path: decoded rows \(setting `passthrough` is false\)/],
      [{ transform: (r: Record<string, unknown>) => r }, /path: decoded rows \(the pipeline has a transform\)/],
      [{ targetTable: 'other' }, /path: decoded rows \(column `ok` is boolean in the source and text in the target\)/],
    ] as const
    await pgQueryAt(url, 'CREATE TABLE other (LIKE src INCLUDING ALL)', 'ALTER TABLE other ALTER ok TYPE text')
    for (const [settings, path] of cases) {
      const dir = tempDir()
      const result = await runPipeline(testSettings(dir, { source: url, target: url, sourceTable: 'src', targetTable: 'dst', writeMode: 'truncate', ...settings }))
      t.is(result.status, 'SUCCESS', result.error?.message)
      t.regex(logOf(dir), path)
    }
  })

  for (const [side, pattern] of [['target', 'COPY "dst"%'], ['source', 'COPY (SELECT%']] as const) {
    test(`a ${side} backend terminated during a raw copy: the ${side === 'target' ? 'write' : 'read'} is retried and the target equals the source`, async (t) => {
      // Its own application name: other tests copy tables of the same names at the same time.
      const url = `${await database(`terminated_${side}`, 60_000)}&application_name=${run}_${side}`
      const dir = tempDir()
      const running = runPipeline(testSettings(dir, { source: url, target: url, sourceTable: 'src', targetTable: 'dst', strategy: 'streaming', batchSize: 500, writeMode: 'insert', validate: 'checksum' }))
      let terminated = 0
      for (let i = 0; i < 2000 && terminated === 0; i++) {
        // Only while the COPY runs: an idle backend still shows its last query, and one terminated
        // after the last page would fail nothing.
        const [row] = await pgQueryAt(url, [`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state = 'active' AND query LIKE $1 AND application_name = current_setting('application_name') AND (SELECT count(*) FROM dst) > 0`, [pattern]])
        terminated = Number(row?.n)
      }
      const result = await running
      t.is(terminated, 1)
      t.is(result.status, 'SUCCESS', result.error?.message)
      t.regex(logOf(dir), side === 'target' ? /write of \d+ rows to `dst` failed \(attempt 1\)/ : /read of `src` failed \(attempt 1\)/)
      t.deepEqual(await pgQueryAt(url, sameRows), [{ missing: 0, extra: 0 }])
    })
  }

  test('a source backend terminated while a page is written as it is read: that page is void (nothing of it committed, no write failure), the read starts again before it, and the target equals the source', async (t) => {
    const url = `${await database('terminated_live', 200_000)}&application_name=${run}_live`
    const dir = tempDir()
    // One page for the whole table: it is written while it is read, from its first line on.
    const running = runPipeline(testSettings(dir, { source: url, target: url, sourceTable: 'src', targetTable: 'dst', strategy: 'streaming', batchSize: 200_000, batchBytes: 256 << 20, writeMode: 'insert', validate: 'checksum' }))
    let terminated = 0
    for (let i = 0; i < 2000 && terminated === 0; i++) {
      // Once the target's COPY has begun: the page is then being written, and not yet whole.
      const [row] = await pgQueryAt(
        url,
        `SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND state = 'active' AND query LIKE 'COPY (SELECT%' AND application_name = current_setting('application_name')
           AND EXISTS (SELECT FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'COPY "dst"%' AND application_name = current_setting('application_name'))`,
      )
      terminated = Number(row?.n)
    }
    const result = await running
    t.is(terminated, 1)
    t.is(result.status, 'SUCCESS', result.error?.message)
    t.regex(logOf(dir), /read of `src` failed \(attempt 1\)/)
    t.notRegex(logOf(dir), /write of \d+ rows to `dst` failed/)
    t.deepEqual(await pgQueryAt(url, sameRows), [{ missing: 0, extra: 0 }])
  })

  test('the dry run says which path each table takes, for a table it would create and one that exists', async (t) => {
    const url = await database('dry', 10)
    await pgQueryAt(url, 'CREATE TABLE other (LIKE src INCLUDING ALL)', 'ALTER TABLE other ALTER doc TYPE text')
    const dir = tempDir()
    const { logger } = createLogger({ pipeline: 'dry', logDir: join(dir, 'logs'), level: 'info', console: false, stamp: 'dry' })
    const tables = [{ sourceTable: 'src', targetTable: 'created' }, { sourceTable: 'src', targetTable: 'dst' }, { sourceTable: 'src', targetTable: 'other' }]
    const plans = await dryRun(resolvePipeline('dry', { source: url, target: url, checkpointDir: join(dir, 'checkpoints'), logDir: join(dir, 'logs'), reportDir: join(dir, 'reports'), tables }), logger)
    const raw = 'raw passthrough (postgres-copy-text, rows never decoded)'
    t.deepEqual(plans.map((p) => p.path), [raw, raw, 'decoded rows (column `doc` is jsonb in the source and text in the target)'])
    t.true(logOf(dir).includes(`path: ${raw}`))
  })
}

function logOf(dir: string): string {
  const logs = join(dir, 'logs')
  return readdirSync(logs).map((f) => readFileSync(join(logs, f), 'utf8')).join('\n')
}
