// Every logical type and its edge values (test/fixtures/types.ts) through Cassandra: PostgreSQL →
// Cassandra → PostgreSQL. Timestamps keep milliseconds, so values finer than that are refused rows
// naming the column (never rounded) until a transform cuts them; every other value and type comes
// back as it went (the table comment records what CQL does not say). Then Cassandra's own types
// (timeuuid, varint, inet, time, duration, collections, tuples, UDTs) into PostgreSQL, and kept as
// they are by a Cassandra → Cassandra copy.
import { join } from 'node:path'
import test from 'ava'
import { openSink } from '../src/engines/registry.js'
import { runPipeline } from '../src/run.js'
import type { Row } from '../src/types.js'
import { cassandraScratch, cql, requireCassandra } from './cassandra.js'
import { compareRows, fixtureRows, fixtureSchema, loadFixture, logicalShape, readAll } from './fixtures/types.js'
import { tempDir, testSettings } from './helpers.js'
import { dropNamespaces, pgQueryAt, requireServers, scratchUrl } from './servers.js'

const run = `${process.pid.toString(36)}_${Date.now().toString(36)}`
const dir = tempDir('ferry-cassandra-types-')

/** Timestamps cut to the millisecond, as a transform may choose to. */
const toMillis = (value: unknown) => (typeof value === 'string' ? value.replace(/(\.\d{3})\d+/, '$1') : value)
const cutToMillis = (row: Row): Row => ({ ...row, ts: toMillis(row.ts), tstz: toMillis(row.tstz) })

if ((await requireServers('postgres')) && (await requireCassandra())) {
  const { keyspace, url } = cassandraScratch('types')
  test.after.always(dropNamespaces)

  test.serial('PostgreSQL → Cassandra: timestamps finer than a millisecond are refused rows naming the column', async (t) => {
    const pg = await scratchUrl('postgres', `cass_types_${run}`)
    await loadFixture(pg, 'fixture')
    const result = await runPipeline(
      testSettings(join(dir, 'refuse'), { source: pg, target: url, sourceTable: 'fixture', targetTable: 'refused', writeMode: 'recreate', onRejectedRow: 'skip', maxRejectedRows: 2, validate: 'checksum', batchSize: 5 }),
    )
    t.is(result.status, 'SUCCESS_WITH_REJECTS', result.error?.message ?? JSON.stringify(result.validation))
    t.is(result.stats.failed, 2)
    t.regex(JSON.stringify(result.stats.errors), /column `ts` of the row with key 1 cannot hold the value exactly: 1969-07-20 20:17:40.123456 is more precise than milliseconds/)
    t.deepEqual((await cql(`SELECT id FROM ${keyspace}.refused`)).map((r) => Number(r.id)).sort(), [2, 3, 4])
  })

  test.serial('every logical type survives PostgreSQL → Cassandra → PostgreSQL, timestamps cut to milliseconds by a transform', async (t) => {
    const pg = await scratchUrl('postgres', `cass_types_${run}`)
    // Made first from the fixture's schema: a transform that changes values makes columns typed by their JavaScript values.
    const sink = await openSink(url)
    await sink.prepare({ table: 'fixture', schema: fixtureSchema('fixture'), mode: 'recreate' }).finally(() => sink.close())
    const there = await runPipeline(
      testSettings(join(dir, 'in'), { source: pg, target: url, sourceTable: 'fixture', targetTable: 'fixture', transform: cutToMillis, validate: 'checksum', batchSize: 2, chunkSize: 2 }),
    )
    t.is(there.status, 'SUCCESS', there.error?.message ?? JSON.stringify(there.validation))
    const inCassandra = await readAll(url, 'fixture')
    t.deepEqual(logicalShape(inCassandra.schema), logicalShape(fixtureSchema('fixture')))
    const expected = fixtureRows.map(cutToMillis)
    compareRows(t, [...inCassandra.rows].sort((a, b) => Number(a.id) - Number(b.id)), inCassandra.schema, 'in Cassandra', expected)

    const back = await scratchUrl('postgres', `cass_back_${run}`)
    const home = await runPipeline(
      testSettings(join(dir, 'back'), { source: url, target: back, sourceTable: 'fixture', targetTable: 'fixture', validate: 'checksum', strategy: 'parallel', chunkSize: 2, numWorkers: 2, batchSize: 2 }),
    )
    t.is(home.status, 'SUCCESS', home.error?.message ?? JSON.stringify(home.validation))
    const { schema, rows } = await readAll(back, 'fixture')
    t.deepEqual(logicalShape(schema), logicalShape(fixtureSchema('fixture')))
    compareRows(t, rows, schema, 'PostgreSQL → Cassandra → PostgreSQL', expected)
    const [types] = await pgQueryAt<{ ts: string; amount: string; weird: string }>(
      back,
      `SELECT format_type(atttypid, atttypmod) AS ts, (SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'fixture'::regclass AND attname = 'amount') AS amount,
              (SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'fixture'::regclass AND attname = 'we"ird col') AS weird
       FROM pg_attribute WHERE attrelid = 'fixture'::regclass AND attname = 'ts'`,
    )
    t.deepEqual(types, { ts: 'timestamp without time zone', amount: 'numeric(30,10)', weird: 'character varying(20)' })
  })

  const native = `CREATE TABLE ${keyspace}.native (
    id timeuuid PRIMARY KEY, big varint, small smallint, tiny tinyint, ip inet, at time, span duration, code ascii,
    nums list<int>, tags set<text>, counts map<text, bigint>, pair tuple<int, text>, addr frozen<address>, blobs frozen<list<blob>>)`
  const id = '5b6962dd-3f90-11ef-8000-000000000000'

  test.serial("Cassandra's own types into PostgreSQL, as text or JSON, exactly", async (t) => {
    await cql(`CREATE TYPE ${keyspace}.address (street text, zip int)`)
    await cql(native)
    await cql(
      `INSERT INTO ${keyspace}.native (id, big, small, tiny, ip, at, span, code, nums, tags, counts, pair, addr, blobs)
       VALUES (${id}, -123456789012345678901234567890, -32768, 127, '::1', '23:59:59.123456789', 1y2mo3d4h5m6s7ms8us9ns, 'abc',
               [3, 1, 2], {'b', 'a'}, {'x': 9007199254740991}, (7, 'seven'), {street: 'Main', zip: 12345}, [0x00ff, 0x])`,
    )
    await cql(`INSERT INTO ${keyspace}.native (id) VALUES (5b6962de-3f90-11ef-8000-000000000000)`)
    const pg = await scratchUrl('postgres', `cass_native_${run}`)
    const result = await runPipeline(testSettings(join(dir, 'native'), { source: url, target: pg, sourceTable: 'native', validate: 'checksum' }))
    t.is(result.status, 'SUCCESS', result.error?.message ?? JSON.stringify(result.validation))
    const [row] = await pgQueryAt(pg, `SELECT id::text, big::text, small, tiny, ip, at, span, code, nums, tags, counts::text, pair, addr, blobs FROM native WHERE big IS NOT NULL`)
    t.deepEqual(row, {
      id,
      big: '-123456789012345678901234567890',
      small: -32768,
      tiny: 127,
      ip: '::1',
      at: '23:59:59.123456789',
      span: '1y2mo3d4h5m6s7ms8us9ns',
      code: 'abc',
      nums: [3, 1, 2],
      tags: ['a', 'b'],
      counts: '{"x": 9007199254740991}',
      pair: [7, 'seven'],
      addr: { street: 'Main', zip: 12345 },
      blobs: ['0x00ff', '0x'],
    })
  })

  test.serial('a Cassandra → Cassandra copy keeps the CQL types no other engine has, collections included', async (t) => {
    const result = await runPipeline(testSettings(join(dir, 'copy'), { source: url, target: url, sourceTable: 'native', targetTable: 'native_copy', validate: 'checksum' }))
    t.is(result.status, 'SUCCESS', result.error?.message ?? JSON.stringify(result.validation))
    const types = await cql('SELECT column_name, type FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?', [keyspace, 'native_copy'])
    t.deepEqual(Object.fromEntries(types.map((r) => [r.column_name, r.type])), {
      id: 'timeuuid',
      big: 'varint',
      small: 'smallint',
      tiny: 'tinyint',
      // What no logical type holds travels as its text, or as JSON when it is a UDT.
      ip: 'text',
      at: 'text',
      span: 'duration',
      code: 'ascii',
      nums: 'list<int>',
      tags: 'set<text>',
      counts: 'map<text, bigint>',
      pair: 'frozen<tuple<int, text>>',
      addr: 'text',
      blobs: 'frozen<list<blob>>',
    })
    const [copy] = await cql(`SELECT nums, tags, counts, blobs FROM ${keyspace}.native_copy WHERE id = ${id}`)
    t.deepEqual([copy!.nums, copy!.tags, copy!.counts, copy!.blobs], [[3, 1, 2], ['a', 'b'], { x: 9007199254740991n }, [Buffer.from([0, 255]), Buffer.alloc(0)]])
  })
}
