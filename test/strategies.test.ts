import { join } from 'node:path'
import test from 'ava'
import { runPipeline } from '../src/run.js'
import { createSource } from '../sources/sqlite.js'
import { exec, itemsDb, query, range, tempDir, testSettings } from './helpers.js'

/** Keys with large gaps and a skewed spread: dense runs, a sparse stretch, a few far outliers. */
const skewedKeys = [
  ...range(1, 6000),
  ...range(1, 300).map((i) => 1_000_000 + i * 10_000),
  ...range(1, 4000).map((i) => 9_000_000_000 + i),
  2 ** 40,
  2 ** 50,
]

const strategies = ['streaming', 'chunked', 'parallel'] as const

test('partitions are cut at quantiles of the actual keys, whatever the gaps', async (t) => {
  const dir = tempDir()
  const source = createSource(itemsDb(join(dir, 'source.db'), skewedKeys))
  await source.open()
  const read = { table: 'items', key: ['id'] }
  const counts: number[] = []
  for (const partition of await source.partitions(read, 700)) {
    let n = 0
    for await (const page of source.read({ ...read, partition, pageSize: 300 })) n += page.rows.length
    counts.push(n)
  }
  await source.close()
  t.is(counts.reduce((a, b) => a + b, 0), skewedKeys.length)
  t.true(counts.slice(0, -1).every((n) => n === 700), counts.join(','))
  t.true(counts.at(-1)! <= 700)
})

for (const strategy of strategies) {
  test(`${strategy} moves the skewed table exactly`, async (t) => {
    const dir = tempDir()
    const target = join(dir, 'target.db')
    const result = await runPipeline(
      testSettings(dir, {
        source: itemsDb(join(dir, 'source.db'), skewedKeys),
        target: `sqlite:${target}`,
        sourceTable: 'items',
        strategy,
        chunkSize: 500,
        batchSize: 100,
        numWorkers: 3,
        validate: 'checksum',
      }),
    )
    t.is(result.status, 'SUCCESS', result.error?.message)
    t.is(result.validation?.passed, true)
    const source = query(join(dir, 'source.db'), 'SELECT * FROM items ORDER BY id')
    t.deepEqual(query(target, 'SELECT * FROM items ORDER BY id'), source)
    if (strategy === 'parallel') {
      t.is(result.stats.workers.length, 3)
      const [min, max] = [Math.min(...result.stats.workers), Math.max(...result.stats.workers)]
      t.log(`rows per worker: ${result.stats.workers.join(', ')}`)
      // Chunks hold equal row counts, so workers that keep taking chunks end up with similar shares.
      t.true(min >= max / 2, result.stats.workers.join(', '))
    }
  })
}

test('text keys are read in order and split into chunks', async (t) => {
  const dir = tempDir()
  const sourceFile = join(dir, 'source.db')
  exec(sourceFile, `CREATE TABLE codes (code TEXT PRIMARY KEY, n INTEGER);
    WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 3000)
    INSERT INTO codes SELECT printf('%s-%05d', char(65 + i % 26), i), i FROM s;`)
  for (const strategy of strategies) {
    const target = join(dir, `${strategy}.db`)
    const result = await runPipeline(
      testSettings(dir, { source: `sqlite:${sourceFile}`, target: `sqlite:${target}`, sourceTable: 'codes', primaryKey: 'code', strategy, chunkSize: 250, validate: 'checksum' }),
    )
    t.is(result.status, 'SUCCESS', `${strategy}: ${result.error?.message}`)
    t.is(query<{ n: number }>(target, 'SELECT COUNT(*) AS n FROM codes')[0]!.n, 3000)
  }
})
