// Issue 10, item 2: an upsert needs the target key to be unique on the target. Every engine checks
// that before any row moves and refuses with a message saying what to add; MySQL used to
// duplicate every row silently (ON DUPLICATE KEY UPDATE without a key is a plain INSERT).
import { join } from 'node:path'
import test from 'ava'
import { runPipeline } from '../src/run.js'
import { availableEngines, runId } from './engines.js'
import { dropTables } from './servers.js'
import { exec, tempDir, testSettings } from './helpers.js'

const run = runId('tkey')
const engines = await availableEngines()

if (engines.length > 1) {
  test.after.always(async () => {
    await dropTables(new RegExp(`^${run}`)).catch(() => {})
  })
}

/** 2000 source rows holding 1000 distinct codes: the target is keyed on `code`. */
function source(file: string): string {
  exec(
    file,
    `CREATE TABLE items (id INTEGER PRIMARY KEY, code INTEGER NOT NULL, name TEXT NOT NULL);
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
     INSERT INTO items SELECT i, (i - 1) % 1000 + 1, 'item ' || i FROM n`,
  )
  return `sqlite:${file}`
}

for (const engine of engines) {
  test(`an upsert on a target key with no unique key or index is refused before any row moves, saying what to add (${engine.name})`, async (t) => {
    const dir = tempDir()
    const table = `${run}_${engine.name}`
    const text = engine.name === 'mysql' ? 'VARCHAR(100)' : 'TEXT'
    // An existing target whose `code` column has no PRIMARY KEY, UNIQUE constraint or unique index.
    await engine.run(dir, `CREATE TABLE ${engine.q(table)} (code INTEGER NOT NULL, name ${text} NOT NULL)`)
    const settings = testSettings(dir, {
      source: source(join(dir, 'source.db')),
      target: engine.url(dir),
      sourceTable: 'items',
      targetTable: table,
      targetKey: 'code',
      writeMode: 'upsert',
      batchSize: 250,
      transform: (r: Record<string, unknown>) => ({ code: r.code, name: r.name }),
    })
    const first = await runPipeline(settings)
    const second = await runPipeline(settings)
    const counted = await engine.rows<{ n: number; d: number }>(dir, `SELECT COUNT(*) AS n, COUNT(DISTINCT code) AS d FROM ${engine.q(table)}`)
    t.deepEqual(counted.map((r) => ({ n: Number(r.n), d: Number(r.d) })), [{ n: 0, d: 0 }], 'no row moved')
    for (const result of [first, second]) {
      t.is(result.status, 'FAILED')
      t.is(result.stats.migrated, 0)
      const message = result.error?.message ?? ''
      t.true(message.includes(`\`${table}\``), `names the target table: ${message}`)
      t.true(message.includes('`code`'), `names the key column: ${message}`)
      t.regex(message, /\b(add|create)\b/i, 'says what to add')
      t.regex(message, /\b(unique|primary key)\b/i, 'a unique key or index')
    }
  })
}
