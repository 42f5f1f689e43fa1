import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { runPipeline } from '../src/run.js'
import { exec, itemsDb, range, tempDir, testSettings } from './helpers.js'

test('a transform that throws stops the run naming the table and the row’s key', async (t) => {
  const dir = tempDir()
  const result = await runPipeline(
    testSettings(dir, {
      source: itemsDb(join(dir, 'source.db'), range(1, 500)),
      target: `sqlite:${join(dir, 'target.db')}`,
      sourceTable: 'items',
      transform: (r: Record<string, unknown>) => {
        if (r.id === 321) throw new Error('boom: cannot handle this row')
        return r
      },
    }),
  )
  t.is(result.status, 'FAILED')
  t.is(result.error?.name, 'TransformError')
  t.is(result.error?.message, 'the transform threw on the row of `items` with key 321: boom: cannot handle this row')
})

test('a validation failure over many chunks is one line in the log; the details are in the report', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  const settings = testSettings(dir, { source: itemsDb(join(dir, 'source.db'), range(1, 5000)), target: `sqlite:${target}`, sourceTable: 'items', chunkSize: 40, validate: 'checksum' })
  t.is((await runPipeline(settings)).status, 'SUCCESS')
  exec(target, `UPDATE items SET name = 'changed'`)
  const result = await runPipeline(settings, { validateOnly: true })
  t.is(result.status, 'VALIDATION_FAILED')
  const failed = readFileSync(result.logFile, 'utf8').split('\n').find((l) => l.includes('FAILED in'))!
  t.true(failed.length < 2000, `${failed.length} characters`)
  t.false(failed.includes('mismatchedPartitions'))
  const report = JSON.parse(readFileSync(result.reportFile, 'utf8')) as { validation: { mismatchedPartitions: unknown[] } }
  t.is(report.validation.mismatchedPartitions.length, 100, 'the report keeps the first 100 of the 126 chunks that differ')
})

test('a checkpoint that cannot be written stops the run naming the file', async (t) => {
  const dir = tempDir()
  // A file where the checkpoint folder should be: writing under it fails as a full or read-only disk would.
  writeFileSync(join(dir, 'blocked'), '')
  const result = await runPipeline(
    testSettings(dir, {
      source: itemsDb(join(dir, 'source.db'), range(1, 100)),
      target: `sqlite:${join(dir, 'target.db')}`,
      sourceTable: 'items',
      checkpointDir: join(dir, 'blocked', 'checkpoints'),
    }),
  )
  t.is(result.status, 'FAILED')
  t.is(result.error?.name, 'CheckpointWriteError')
  t.regex(result.error?.message ?? '', /cannot write `.*blocked\/checkpoints\/test\.[^`]+`: ENOTDIR/)
})
