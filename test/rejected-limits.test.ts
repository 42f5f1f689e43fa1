// Issue 10, item 5: `onRejectedRow: 'skip'` gets a limit (`maxRejectedRows`, a count or a
// fraction); a run that rejected rows does not end in plain SUCCESS, and exits 1 unless the
// pipeline allows the rejects; checksum validation accounts for the rows set aside.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import type { PipelineSettings } from '../src/config.js'
import { runPipeline } from '../src/run.js'
import { ferryIndex, runCli } from './engines.js'
import { exec, itemsDb, query, range, tempDir, testSettings } from './helpers.js'

/** Rows with qty in 95..99 break the target's CHECK: 86 of ids 1..2000 (qty is NULL when id % 7 = 0). */
const bad = range(1, 2000).filter((id) => id % 7 !== 0 && id % 100 >= 95)

function files(dir: string, check: string) {
  const source = itemsDb(join(dir, 'source.db'), range(1, 2000))
  const target = join(dir, 'target.db')
  exec(target, `CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER, CHECK (${check}))`)
  return { source, target }
}

/** Writes a pipeline file for the CLI: the items table into the target, rejects skipped. */
function pipelineFile(dir: string, extra: Record<string, unknown>): string {
  const file = join(dir, 'rejects.ts')
  const settings = {
    source: `sqlite:${join(dir, 'source.db')}`,
    target: `sqlite:${join(dir, 'target.db')}`,
    sourceTable: 'items',
    batchSize: 500,
    onRejectedRow: 'skip',
    checkpointDir: join(dir, 'checkpoints'),
    logDir: join(dir, 'logs'),
    reportDir: join(dir, 'reports'),
    ...extra,
  }
  writeFileSync(file, `import { definePipeline } from '${ferryIndex}'\nexport default definePipeline(${JSON.stringify(settings)} as never)\n`)
  return file
}

const reportStatus = (dir: string) => {
  const name = readdirSync(join(dir, 'reports')).find((n) => n.endsWith('.json'))!
  return (JSON.parse(readFileSync(join(dir, 'reports', name), 'utf8')) as { summary: { status: string } }).summary.status
}

test("onRejectedRow 'skip' with every row rejected does not end in SUCCESS, and the CLI exits 1", async (t) => {
  const dir = tempDir()
  const { source, target } = files(dir, 'length(name) < 3')
  const result = await runPipeline(testSettings(dir, { source, target: `sqlite:${target}`, sourceTable: 'items', batchSize: 500, onRejectedRow: 'skip' }))
  t.is(result.stats.migrated, 0)
  t.is(result.stats.failed, 2000)
  t.not(result.status, 'SUCCESS', '0 of 2000 rows migrated is not a success')

  const cliDir = tempDir()
  files(cliDir, 'length(name) < 3')
  const cli = await runCli(cliDir, [pipelineFile(cliDir, {})])
  t.is(cli.code, 1, cli.stdout + cli.stderr)
  t.not(reportStatus(cliDir), 'SUCCESS')
  t.notRegex(cli.stdout, /\bSUCCESS: 0 migrated/)
})

test('maxRejectedRows as a count fails a run that rejects more rows than it allows, and the CLI exits 1', async (t) => {
  const dir = tempDir()
  const { source, target } = files(dir, 'qty < 95')
  const result = await runPipeline(
    testSettings(dir, { source, target: `sqlite:${target}`, sourceTable: 'items', batchSize: 500, onRejectedRow: 'skip', maxRejectedRows: 10 } as PipelineSettings),
  )
  t.is(result.status, 'FAILED')
  t.regex(result.error?.message ?? '', /maxRejectedRows/)
  t.true(result.stats.failed > 10)
  t.true(result.stats.failed <= bad.length)

  const cliDir = tempDir()
  files(cliDir, 'qty < 95')
  const cli = await runCli(cliDir, [pipelineFile(cliDir, { maxRejectedRows: 10 })])
  t.is(cli.code, 1, cli.stdout + cli.stderr)
  t.is(reportStatus(cliDir), 'FAILED')
})

test('maxRejectedRows as a fraction: rejects within it end in a status that says so and exit 0; beyond it FAILED and exit 1', async (t) => {
  // 86 of 2000 rows (4.3%) are rejected.
  const within = tempDir()
  files(within, 'qty < 95')
  const allowed = await runCli(within, [pipelineFile(within, { maxRejectedRows: 0.1 })])
  t.is(allowed.code, 0, allowed.stdout + allowed.stderr)
  const status = reportStatus(within)
  t.not(status, 'SUCCESS', 'a run that rejected rows says so')
  t.not(status, 'FAILED')
  t.is(query<{ n: number }>(join(within, 'target.db'), 'SELECT COUNT(*) AS n FROM items')[0]!.n, 2000 - bad.length)

  const beyond = tempDir()
  files(beyond, 'qty < 95')
  const refused = await runCli(beyond, [pipelineFile(beyond, { maxRejectedRows: 0.01 })])
  t.is(refused.code, 1, refused.stdout + refused.stderr)
  t.is(reportStatus(beyond), 'FAILED')
})

test('checksum validation does not report the rows set aside in the rejected-rows file as missing', async (t) => {
  const dir = tempDir()
  const { source, target } = files(dir, 'qty < 95')
  const result = await runPipeline(
    testSettings(dir, { source, target: `sqlite:${target}`, sourceTable: 'items', batchSize: 500, onRejectedRow: 'skip', validate: 'checksum', chunkSize: 500 }),
  )
  t.is(result.stats.failed, bad.length)
  const report = JSON.parse(readFileSync(result.reportFile, 'utf8')) as { summary: { rejectedRowsFile: string } }
  const setAside = readFileSync(report.summary.rejectedRowsFile, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { key: number }).key)
  t.deepEqual(setAside, bad)
  t.like(result.validation, { mode: 'checksum', expectedCount: 2000 - bad.length, targetCount: 2000 - bad.length })
  t.deepEqual(result.validation?.missingKeys, [], 'rejected rows are accounted for, as the count does')
  t.is(result.validation?.passed, true)
})
