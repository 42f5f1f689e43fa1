// Every logical type and its edge values (test/fixtures/types.ts) through MongoDB: SQLite,
// PostgreSQL and MySQL → MongoDB → PostgreSQL, on FerretDB. What BSON has no type for changes
// shape, exactly and as the README says: dates and timestamps become BSON dates (timestamptz on the
// way back), text lengths are not kept, and on FerretDB (no Decimal128) decimals are strings.
// FerretDB's SQLite backend cannot store a field name holding `"` (it writes malformed JSON), so the
// fixture's `we"ird col` travels as `weird col` and gets its name back on the way home.
import { join } from 'node:path'
import test from 'ava'
import { Binary, Decimal128, Double, Int32, Long } from 'mongodb'
import { canonical } from '../src/canonical.js'
import { runPipeline } from '../src/run.js'
import type { Row, TableSchema } from '../src/types.js'
import { rename } from '../transforms/compose.js'
import { fixtureRows, loadFixture, readAll } from './fixtures/types.js'
import { tempDir, testSettings } from './helpers.js'
import { mongoScratch } from './mongodb.js'
import { dropNamespaces, requireServers, scratchUrl, servers } from './servers.js'

const run = `${process.pid.toString(36)}_${Date.now().toString(36)}`
const dir = tempDir('ferry-mongo-types-')

/** A timestamp as MongoDB keeps it: the instant in UTC, cut to the millisecond. */
function asBsonDate(value: unknown): string | null {
  if (value === null) return null
  const text = String(value)
  const utc = /T.*Z$/.test(text) ? text : `${text.replace(' ', 'T')}${text.includes(' ') ? '' : 'T00:00:00'}Z`
  return utc.replace(/(\.\d{3})\d+Z$/, '$1Z')
}

/** The fixture as it comes back through MongoDB (on FerretDB) into PostgreSQL. */
const expected: Row[] = fixtureRows.map((row) => ({
  ...row,
  day: asBsonDate(row.day),
  ts: asBsonDate(row.ts),
  tstz: asBsonDate(row.tstz),
}))

const shapeAfter: Record<string, string> = {
  id: 'bigint',
  i32: 'integer',
  i64: 'bigint',
  amount: 'text',
  flt: 'float',
  flag: 'boolean',
  day: 'timestamptz',
  ts: 'timestamptz',
  tstz: 'timestamptz',
  select: 'text',
  'we"ird col': 'text',
  doc: 'json',
  blob: 'bytes',
  uid: 'uuid',
}

function compare(t: import('ava').ExecutionContext, rows: readonly Row[], schema: TableSchema, label: string): void {
  t.is(rows.length, expected.length, `${label}: rows`)
  for (const [i, want] of expected.entries()) {
    for (const c of schema.columns) {
      const [a, e] = [canonical(rows[i]?.[c.name], c), canonical(want[c.name], c)]
      if (a !== e) t.fail(`${label}: row ${String(want.id)} column ${c.name}: got ${a.slice(0, 80)}, expected ${e.slice(0, 80)}`)
    }
  }
}

if (await requireServers('postgres', 'mysql', 'mongodb')) {
  const mongo = await mongoScratch('types')
  const sources = {
    sqlite: `sqlite:${join(dir, 'types.db')}`,
    postgres: await scratchUrl('postgres', `mongo_types_${run}`),
    mysql: await scratchUrl('mysql', `mongo_types_${run}`),
  }
  test.after.always(dropNamespaces)

  for (const [from, url] of Object.entries(sources)) {
    test(`every logical type survives ${from} → MongoDB → PostgreSQL, as BSON can hold it`, async (t) => {
      await loadFixture(url, 'fixture')
      const there = await runPipeline(
        testSettings(join(dir, `${from}-in`), {
          source: url,
          target: `${mongo.url}?subMillisecond=truncate`,
          sourceTable: 'fixture',
          targetTable: `from_${from}`,
          writeMode: 'recreate',
          transform: rename({ 'we"ird col': 'weird col' }),
          validate: 'checksum',
          // Cut to the millisecond on purpose, so these differ from the source as stored.
          validateIgnore: ['ts', 'tstz'],
          batchSize: 2,
          chunkSize: 2,
        }),
      )
      t.is(there.status, 'SUCCESS', there.error?.message ?? JSON.stringify(there.validation))
      const stored = await mongo.db((db) => db.collection(`from_${from}`).findOne({ _id: 1 }, { promoteValues: false }))
      t.true(stored!._id instanceof Long && stored!.i32 instanceof Int32 && stored!.i64 instanceof Long && stored!.flt instanceof Double)
      t.is(stored!.amount, '12345678901234567890.1234567890', 'FerretDB has no Decimal128: decimals are strings')
      t.false(stored!.amount instanceof Decimal128)
      t.is((stored!.uid as Binary).sub_type, Binary.SUBTYPE_UUID)
      t.deepEqual(stored!.doc, { a: [new Int32(1), new Int32(2), { b: null }], s: 'ü\n"', n: new Double(1.5) })

      const back = await scratchUrl('postgres', `mongo_back_${from}_${run}`)
      const home = await runPipeline(
        testSettings(join(dir, `${from}-back`), {
          source: mongo.url,
          target: back,
          sourceTable: `from_${from}`,
          targetTable: 'fixture',
          targetKey: 'id',
          transform: rename({ _id: 'id', 'weird col': 'we"ird col' }),
          validate: 'checksum',
          strategy: 'parallel',
          chunkSize: 2,
          batchSize: 2,
        }),
      )
      t.is(home.status, 'SUCCESS', home.error?.message ?? JSON.stringify(home.validation))
      const { schema, rows } = await readAll(back, 'fixture')
      t.deepEqual(Object.fromEntries(schema.columns.map((c) => [c.name, c.type])), shapeAfter)
      compare(t, rows, schema, `${from} → MongoDB → PostgreSQL`)
    })
  }

  test('by default a timestamp finer than a millisecond is a rejected row naming the column, never rounded', async (t) => {
    await loadFixture(servers.postgres, `mongo_types_${run}`)
    const result = await runPipeline(
      testSettings(join(dir, 'refuse'), {
        source: servers.postgres,
        target: mongo.url,
        sourceTable: `mongo_types_${run}`,
        targetTable: 'refused',
        writeMode: 'recreate',
        onRejectedRow: 'skip',
        maxRejectedRows: 2,
        transform: rename({ 'we"ird col': 'weird col' }),
        validate: 'checksum',
        batchSize: 5,
      }),
    )
    t.is(result.status, 'SUCCESS_WITH_REJECTS', result.error?.message ?? JSON.stringify(result.validation))
    t.is(result.stats.failed, 2)
    t.regex(JSON.stringify(result.stats.errors), /column `ts` of the row with key 1 cannot be written exactly: 1969-07-20 20:17:40.123456 is more precise than the millisecond/)
    t.deepEqual(await mongo.db(async (db) => (await db.collection('refused').find({}).sort({ _id: 1 }).toArray()).map((d) => Number(d._id))), [2, 3, 4])
    await t.notThrowsAsync(() => import('./servers.js').then((s) => s.pgQuery(`DROP TABLE "mongo_types_${run}"`)))
  })
}
