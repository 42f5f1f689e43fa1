// src/deferred-indexes.ts and the sinks' index methods: what issue 10 item 9's own tests
// (defer-indexes-recovery.test.ts) leave out: building an index twice, an index the loaded rows
// break, and a saved file that belongs to another target table.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import type { PipelineSettings } from '../src/config.js'
import { indexesFile } from '../src/deferred-indexes.js'
import { openSink } from '../src/engines/registry.js'
import { runPipeline } from '../src/run.js'
import { availableEngines, runId } from './engines.js'
import { dropTables } from './servers.js'
import { exec, itemsDb, query, range, tempDir, testSettings } from './helpers.js'

const run = runId('dix')
const engines = await availableEngines()

if (engines.length > 1) {
  test.after.always(async () => {
    await dropTables(new RegExp(`^${run}`)).catch(() => {})
  })
}

for (const engine of engines) {
  test(`sink index methods: list the plain index but not the unique one, drop it, build it twice without an error (${engine.name})`, async (t) => {
    const dir = tempDir()
    const table = `${run}_${engine.name}`
    const text = engine.name === 'mysql' ? 'VARCHAR(100)' : 'TEXT'
    await engine.run(
      dir,
      `CREATE TABLE ${engine.q(table)} (id INTEGER PRIMARY KEY, name ${text}, code ${text})`,
      `CREATE INDEX ${engine.q(`${table}_name`)} ON ${engine.q(table)} (name)`,
      // Not a constraint, yet it enforces the data (and an upsert's ON CONFLICT may need it): it stays.
      `CREATE UNIQUE INDEX ${engine.q(`${table}_code`)} ON ${engine.q(table)} (code${engine.name === 'mysql' ? '(20)' : ''})`,
    )
    const sink = await openSink(engine.url(dir))
    try {
      const listed = await sink.secondaryIndexes!(table)
      t.deepEqual(listed.map((i) => i.name), [`${table}_name`])
      t.deepEqual(await sink.dropIndexes!(table, listed), listed)
      t.deepEqual(await sink.secondaryIndexes!(table), [])
      await sink.createIndex!(listed[0]!)
      await sink.createIndex!(listed[0]!)
      t.deepEqual((await sink.secondaryIndexes!(table)).map((i) => i.name), [`${table}_name`])
    } finally {
      await sink.close()
    }
  })
}

test('deferIndexes: an index the loaded rows break fails the run naming it, stays saved, and the next run builds it (sqlite)', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  // json_extract() fails on text that is not JSON, so this index cannot be built over `item 1`.
  exec(target, `CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER); CREATE INDEX items_json ON items (json_extract(name, '$.k'))`)
  const source = itemsDb(join(dir, 'source.db'), range(1, 50))
  const settings = (extra: Partial<PipelineSettings>) =>
    testSettings(dir, { source, target: `sqlite:${target}`, sourceTable: 'items', deferIndexes: true, ...extra })
  const file = indexesFile(settings({}).checkpointFile)

  const broken = await runPipeline(settings({}))
  t.is(broken.status, 'FAILED')
  t.regex(broken.error?.message ?? '', /`items_json` \(malformed JSON\)/)
  t.regex(readFileSync(broken.reportFile, 'utf8'), /items_json/)
  t.deepEqual(JSON.parse(readFileSync(file, 'utf8')).indexes.map((i: { name: string }) => i.name), ['items_json'])

  const elsewhere = await runPipeline(settings({ targetTable: 'other' }))
  t.is(elsewhere.status, 'FAILED')
  t.regex(elsewhere.error?.message ?? '', /holds 1 index\(es\) \(`items_json`\) that an earlier run dropped from `items`/)
  t.deepEqual(query(target, "SELECT name FROM sqlite_master WHERE name = 'other'"), [], 'nothing was written to the other table')

  const fixed = await runPipeline(settings({ transform: (r) => ({ ...r, name: JSON.stringify({ k: r.name }) }) }))
  t.is(fixed.status, 'SUCCESS', fixed.error?.message)
  t.deepEqual(query(target, "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"), [{ name: 'items_json' }])
  t.false(existsSync(file), 'the file goes once the index is back')
})
