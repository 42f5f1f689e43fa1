// A dry run says what the target engine does with the names of a table ferry would create: an
// Oracle target keeps the case of quoted names, so `users` is created as "users", not USERS.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { OracleSink } from '../sinks/oracle/oracle-sink.js'
import { SqliteSink } from '../sinks/sqlite.js'
import { dryRun } from '../src/dry-run.js'
import { createLogger } from '../src/log.js'
import { resolvePipeline } from '../src/run.js'
import type { Sink } from '../src/sink.js'
import { exec, itemsDb, range, tempDir } from './helpers.js'

test('a dry run that would create a table prints the target engine’s note on its names; one writing an existing table does not', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  exec(target, 'CREATE TABLE "ITEMS_KEPT" (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER)')
  // A real SQLite target that speaks of names as the Oracle sink does.
  const oracleLike = (): Sink => Object.assign(new SqliteSink(target), { nameNote: OracleSink.prototype.nameNote })
  const { logger, file } = createLogger({ pipeline: 'names', logDir: join(dir, 'logs'), level: 'info', console: false, stamp: 'dry' })
  const plans = await dryRun(
    resolvePipeline('names', {
      source: itemsDb(join(dir, 'source.db'), range(1, 10)),
      target: oracleLike,
      checkpointDir: join(dir, 'checkpoints'),
      logDir: join(dir, 'logs'),
      reportDir: join(dir, 'reports'),
      tables: [{ sourceTable: 'items', targetTable: 'items_new' }, { sourceTable: 'items', targetTable: 'ITEMS_KEPT' }],
    }),
    logger,
  )
  const note =
    'Oracle keeps the case of quoted names: "items_new", "id", "name", "qty" are created as written, so SQL must quote them ("items_new", not ITEMS_NEW); name them in upper case in the pipeline for names plain SQL can use'
  t.deepEqual(plans.map((p) => p.names), [note, undefined])
  t.true(readFileSync(file, 'utf8').includes(`names: ${note.replaceAll('"', '\\"')}`))
})
