import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { runPipeline } from '../src/run.js'
import { canonical, keyId } from '../src/canonical.js'
import { exec, itemsDb, range, tempDir, testSettings } from './helpers.js'
import { flakyLookupSink } from './sink-faults.js'

test('validation names the keys that are missing, extra or different', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  const settings = testSettings(dir, {
    source: itemsDb(join(dir, 'source.db'), range(1, 5000)),
    target: `sqlite:${target}`,
    sourceTable: 'items',
    chunkSize: 1000,
    validate: 'checksum',
  })
  t.is((await runPipeline(settings)).status, 'SUCCESS')
  exec(target, `DELETE FROM items WHERE id = 500; UPDATE items SET name = 'changed' WHERE id = 3777; INSERT INTO items VALUES (999999, 'stray', 1)`)
  const result = await runPipeline(settings, { validateOnly: true })
  t.is(result.status, 'VALIDATION_FAILED')
  t.like(result.validation, {
    passed: false,
    mode: 'checksum',
    sourceCount: 5000,
    targetCount: 5000,
    missingKeys: ['500'],
    differingKeys: ['3777'],
    extraKeys: ['999999'],
  })
  // The stray row is extra in the target as a whole, not in any source partition.
  t.is(result.validation?.mismatchedPartitions?.length, 2)
  t.deepEqual(result.validation?.differingColumns, { name: 1 })
  t.is(result.stats.migrated, 0, 'validate-only moves nothing')

  const counts = await runPipeline({ ...settings, validate: 'count' }, { validateOnly: true })
  t.is(counts.status, 'SUCCESS', 'counts alone cannot see a deleted row replaced by a stray one')
  exec(target, 'DELETE FROM items WHERE id = 999999')
  t.like((await runPipeline({ ...settings, validate: 'count' }, { validateOnly: true })).validation, { passed: false, expectedCount: 5000, targetCount: 4999 })
})

test('canonical values agree across the forms drivers return', (t) => {
  t.is(canonical(true, { type: 'boolean' }), canonical(1, { type: 'boolean' }))
  t.is(canonical(5n, { type: 'bigint' }), canonical(5, { type: 'bigint' }))
  t.is(canonical('12.50', { type: 'decimal' }), canonical(12.5, { type: 'decimal' }))
  t.is(canonical('{"b":1,"a":[2]}', { type: 'json' }), canonical({ a: [2], b: 1 }, { type: 'json' }))
  t.is(canonical(Buffer.from('hi'), { type: 'bytes' }), '6869')
  t.not(canonical('', { type: 'text' }), canonical(null, { type: 'text' }))
})

test('key ids keep composite keys and NULL apart whatever characters the values hold', (t) => {
  const text = [{ type: 'text' }, { type: 'text' }] as const
  t.not(keyId(['a\u0001b', 'c'], text), keyId(['a', 'b\u0001c'], text))
  t.not(keyId([null], text), keyId(['\u0000'], text))
  t.is(keyId([5n, 'x'], [{ type: 'bigint' }, { type: 'text' }]), keyId([5, 'x'], [{ type: 'bigint' }, { type: 'text' }]))
})

test('checksum validation fails when several source rows are transformed to one target key, even if an extra row balances the counts', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  const settings = testSettings(dir, {
    source: itemsDb(join(dir, 'source.db'), range(1, 100)),
    target: `sqlite:${target}`,
    sourceTable: 'items',
    validate: 'checksum',
    // Rows 1 and 2 both become key 1, with the same content.
    transform: (r: Record<string, unknown>) => (Number(r.id) <= 2 ? { id: 1, name: 'same', qty: 1 } : r),
  })
  t.is((await runPipeline(settings)).status, 'VALIDATION_FAILED')
  exec(target, `INSERT INTO items VALUES (5000, 'stray', 1)`)
  const result = await runPipeline(settings, { validateOnly: true })
  t.is(result.validation?.targetCount, 100, 'the counts agree')
  t.is(result.status, 'VALIDATION_FAILED')
  t.deepEqual(result.validation?.sharedKeys, ['1'])
})

test('a validation lookup that fails transiently is retried, said in the log, and validation passes', async (t) => {
  const dir = tempDir()
  const target = join(dir, 'target.db')
  const result = await runPipeline(
    testSettings(dir, { source: itemsDb(join(dir, 'source.db'), range(1, 3000)), target: flakyLookupSink(target, 2), sourceTable: 'items', validate: 'checksum' }),
  )
  t.is(result.status, 'SUCCESS', result.error?.message)
  t.true(result.validation?.passed)
  t.regex(readFileSync(result.logFile, 'utf8'), /validation of `items`: a read failed \(attempt 2\): connection reset by peer; trying again in 0\.01 s/)
})
