import test from 'ava'
import { ConfigError } from '../src/errors.js'
import { resolvePipeline } from '../src/run.js'
import { definePipeline, isPipeline } from '../src/define.js'

const base = { source: 'sqlite:a.db', target: 'sqlite:b.db', sourceTable: 'users' }

test('defaults fill every setting DESIGN.md lists', (t) => {
  const s = resolvePipeline('p', base).tables[0]!
  t.like(s, {
    targetTable: 'users',
    strategy: 'chunked',
    chunkSize: 10_000,
    numWorkers: 4,
    batchSize: 1000,
    validate: true,
    checkpoints: true,
    checkpointInterval: 100_000,
    maxRetries: 3,
    retryDelay: 5000,
    skipExisting: false,
    resume: false,
    writeMode: 'upsert',
  })
  t.true(Object.isFrozen(s))
  t.is(s.primaryKey, undefined, 'the source table decides the key when the pipeline does not')
  t.is(s.targetKey, undefined)
})

test('a key is a column or a list of columns, each named once', (t) => {
  t.deepEqual(resolvePipeline('p', { ...base, primaryKey: 'id' }).tables[0]!.primaryKey, ['id'])
  t.deepEqual(resolvePipeline('p', { ...base, primaryKey: ['order_id', 'line'], targetKey: ['o', 'l'] }).tables[0]!.targetKey, ['o', 'l'])
  t.throws(() => resolvePipeline('p', { ...base, primaryKey: [] }), { message: /setting `primaryKey`: expected at least one column/ })
  t.throws(() => resolvePipeline('p', { ...base, primaryKey: ['a', 'a'] }), { message: /setting `primaryKey`: a column is named twice/ })
})

test('an unknown setting is named with the allowed ones', (t) => {
  const err = t.throws(() => resolvePipeline('p', { ...base, batchsize: 10 } as never), { instanceOf: ConfigError })
  t.regex(err!.message, /unknown setting `batchsize`; allowed settings: .*batchSize/)
})

test('a bad value names the setting and what is allowed', (t) => {
  const bad = [
    [{ strategy: 'fast' }, /setting `strategy`: .*"streaming"\|"chunked"\|"parallel"/],
    [{ batchSize: 0 }, /setting `batchSize`: expected a whole number above 0 \(got 0\)/],
    [{ chunkSize: 1.5 }, /setting `chunkSize`: expected a whole number \(got 1.5\)/],
    [{ retryDelay: 'soon' }, /setting `retryDelay`: .*number/],
    [{ source: 'db2://x' }, /setting `source`: expected a URL whose scheme is one of sqlite/],
    [{ transform: 'upper' }, /setting `transform`: expected a function/],
    [{ sourceTable: '' }, /setting `sourceTable`/],
  ] as const
  for (const [override, message] of bad) {
    const err = t.throws(() => resolvePipeline('p', { ...base, ...override } as never), { instanceOf: ConfigError })
    t.regex(err!.message, message)
  }
})

test('every bad setting is reported at once', (t) => {
  const err = t.throws(() => resolvePipeline('p', { ...base, batchSize: -1, strategy: 'x' } as never))
  t.regex(err!.message, /batchSize[\s\S]*strategy|strategy[\s\S]*batchSize/)
})

test('overrides are validated like the file', (t) => {
  const p = definePipeline(base)
  t.true(isPipeline(p))
  t.false(isPipeline({ settings: base }))
  t.is(resolvePipeline('p', p, { strategy: 'parallel' }).tables[0]!.strategy, 'parallel')
  t.throws(() => resolvePipeline('p', p, { batchSize: -5 }), { message: /batchSize/ })
})

test('connection options with the old `dialect` get a hint that it is now `engine`', (t) => {
  const err = t.throws(() => resolvePipeline('p', { ...base, target: { dialect: 'mysql', host: 'h' } } as never), { instanceOf: ConfigError })
  t.regex(err!.message, /setting `target`: .*no longer `dialect`/)
})

test('resume without checkpoints is refused: it could not keep the checkpoint true', (t) => {
  const err = t.throws(() => resolvePipeline('p', { ...base, resume: true, checkpoints: false }), { instanceOf: ConfigError })
  t.regex(err!.message, /`resume` needs `checkpoints`/)
})

test('the raw passthrough writes batches of batchBytes unless the pipeline sets batchSize, which then bounds it as it bounds decoded rows', (t) => {
  const base = { source: 'sqlite:a.db', target: 'sqlite:b.db', sourceTable: 'items' }
  const unset = resolvePipeline('p', definePipeline(base)).tables[0]!
  t.is(unset.batchSize, 1000)
  t.is(unset.rawBatchSize, 1_000_000)
  const set = resolvePipeline('p', definePipeline({ ...base, batchSize: 500 })).tables[0]!
  t.is(set.rawBatchSize, 500)
  t.is(resolvePipeline('p', definePipeline(base), { batchSize: 200 }).tables[0]!.rawBatchSize, 200)
})
