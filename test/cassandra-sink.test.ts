// The Cassandra sink on a real node: tables created from the target key (partition and clustering
// columns), upserts, rows a column cannot hold refused one by one while the others are written,
// INSERT … IF NOT EXISTS when asked, NULLs as NULL or left unset, and lookups by key.
import { join } from 'node:path'
import test from 'ava'
import { openSink } from '../src/engines/registry.js'
import { runPipeline } from '../src/run.js'
import type { ColumnInfo, TableSchema } from '../src/types.js'
import { cassandraScratch, cassandraUrl, cql, requireCassandra } from './cassandra.js'
import { itemsDb, range, tempDir, testSettings } from './helpers.js'

const col = (name: string, type: ColumnInfo['type'], extra: Partial<ColumnInfo> = {}): ColumnInfo => ({ name, nativeType: type, type, nullable: true, ...extra })

if (await requireCassandra()) {
  const { keyspace, url } = cassandraScratch('sink')

  test('a table ferry creates: the first key column partitions, the others cluster; partitionKey says otherwise', async (t) => {
    const schema: TableSchema = {
      table: 'lines',
      columns: [col('order_id', 'bigint'), col('line', 'integer'), col('sku', 'text', { nativeType: 'varchar(12)' }), col('price', 'decimal', { precision: 10, scale: 2 }), col('at', 'timestamp'), col('doc', 'json')],
      primaryKey: ['order_id', 'line'],
      uniqueKeys: [['order_id', 'line']],
    }
    const keyOf = async (table: string) =>
      (await cql('SELECT column_name, kind, position FROM system_schema.columns WHERE keyspace_name = ? AND table_name = ?', [keyspace, table]))
        .filter((r) => r.kind !== 'regular')
        .map((r) => `${String(r.kind)}:${String(r.column_name)}`)
        .sort()
    const sink = await openSink(url)
    try {
      const created = await sink.prepare({ table: 'lines', schema, mode: 'upsert' })
      t.deepEqual(await keyOf('lines'), ['clustering:line', 'partition_key:order_id'])
      // Read back as created: the order of the columns, a text length, a decimal's digits, a timestamp without zone, JSON.
      t.deepEqual(
        created.columns.map((c) => [c.name, c.nativeType, c.type, c.precision, c.scale]),
        [
          ['order_id', 'bigint', 'bigint', undefined, undefined],
          ['line', 'int', 'integer', undefined, undefined],
          ['sku', 'varchar(12)', 'text', undefined, undefined],
          ['price', 'decimal', 'decimal', 10, 2],
          ['at', 'timestamp', 'timestamp', undefined, 3],
          ['doc', 'text', 'json', undefined, undefined],
        ],
      )
    } finally {
      await sink.close()
    }
    const both = await openSink(cassandraUrl(keyspace, '&partitionKey=order_id,line'))
    try {
      await both.prepare({ table: 'lines2', schema: { ...schema, table: 'lines2' }, mode: 'upsert' })
      t.deepEqual(await keyOf('lines2'), ['partition_key:line', 'partition_key:order_id'])
      t.throws(() => both.checkTarget!({ ...schema, table: 'lines3', primaryKey: ['sku'] }), { message: /`order_id`, `line` are not in the target key \(`sku`\)/ })
    } finally {
      await both.close()
    }
  })

  test('rows written in unlogged batches per partition, upserted again, looked up by key', async (t) => {
    const schema: TableSchema = { table: 'wide', columns: [col('p', 'integer'), col('c', 'integer'), col('v', 'text')], primaryKey: ['p', 'c'], uniqueKeys: [['p', 'c']] }
    const sink = await openSink(url)
    try {
      const created = await sink.prepare({ table: 'wide', schema, mode: 'recreate' })
      const target = { table: 'wide', columns: created.columns, key: ['p', 'c'] }
      const rows = range(0, 999).map((i) => ({ p: i % 10, c: i, v: `v${i}` }))
      t.deepEqual(await sink.write(target, rows, 'insert'), { rejected: [] })
      t.deepEqual(await sink.write(target, rows.slice(0, 5).map((r) => ({ ...r, v: null })), 'upsert'), { rejected: [] })
      t.is(await sink.count('wide'), 1000)
      const found = await sink.lookup(target, [[3, 3], [4, 405], [9, 999], [1, 2]])
      t.deepEqual(found.sort((a, b) => Number(a.c) - Number(b.c)), [{ p: 3, c: 3, v: null }, { p: 9, c: 999, v: 'v999' }])
    } finally {
      await sink.close()
    }
  })

  test('values a column cannot hold exactly are refused rows naming column and key; the others are written', async (t) => {
    await cql(`CREATE TABLE ${keyspace}.strict (id int PRIMARY KEY, small smallint, at timestamp, tid timeuuid, code ascii, f float, n varint)`)
    const sink = await openSink(url)
    try {
      const schema = (await sink.describe('strict'))!
      const target = { table: 'strict', columns: schema.columns, key: ['id'] }
      const ok = { small: 1, at: '2024-01-01 10:00:00.123', tid: '5b6962dd-3f90-11ef-8000-000000000000', code: 'A', f: 0.5, n: '12' }
      const result = (await sink.write(target, [
        { id: 1, ...ok },
        { id: 2, ...ok, small: 40000 },
        { id: 3, ...ok, at: '2024-01-01 10:00:00.1234' },
        { id: 4, ...ok, tid: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11' },
        { id: 5, ...ok, code: 'é' },
        { id: 6, ...ok, f: 0.1 },
        { id: 7, ...ok, n: '1.5' },
        { id: 8, ...ok, n: '123456789012345678901234567890' },
      ], 'insert'))!
      const reasons = Object.fromEntries(result.rejected.map((r) => [r.index, String((r.error as Error).message)]))
      t.deepEqual(Object.keys(reasons).map(Number), [1, 2, 3, 4, 5, 6])
      t.regex(reasons[1]!, /column `small` of the row with key 2 cannot hold the value exactly: 40000 is out of the range of a smallint/)
      t.regex(reasons[2]!, /column `at` of the row with key 3 .*more precise than milliseconds/)
      t.regex(reasons[3]!, /column `tid` .* not a time-based \(version 1\) UUID/)
      t.regex(reasons[4]!, /column `code` .* beyond US-ASCII/)
      t.regex(reasons[5]!, /column `f` .* not a single-precision float/)
      t.regex(reasons[6]!, /column `n` .* 1.5 has more than 0 digits after the point/)
      const rows = await cql(`SELECT id, n FROM ${keyspace}.strict`)
      t.deepEqual(rows.map((r) => r.id).sort(), [1, 8])
      t.is(String(rows.find((r) => r.id === 8)!.n), '123456789012345678901234567890')
    } finally {
      await sink.close()
    }
  })

  test('a run with refused rows skips them into the rejected-rows file and validation expects the rest', async (t) => {
    const dir = tempDir()
    await cql(`CREATE TABLE ${keyspace}.tiny (id int PRIMARY KEY, name text, qty tinyint)`)
    const result = await runPipeline(
      testSettings(dir, { source: itemsDb(join(dir, 'items.db'), range(1, 300)), target: url, sourceTable: 'items', targetTable: 'tiny', transform: (r: Record<string, unknown>) => ({ ...r, qty: r.qty === null ? null : Number(r.qty) * 2 }), onRejectedRow: 'skip', validate: 'checksum', batchSize: 50 }),
    )
    t.is(result.status, 'REJECTED_ROWS', result.error?.message)
    // qty is id % 100 doubled: 64 to 99 overflow a tinyint (id % 7 = 0 has NULL).
    const refused = range(1, 300).filter((id) => id % 7 !== 0 && (id % 100) * 2 > 127).length
    t.is(result.stats.failed, refused)
    t.true(result.validation?.passed, JSON.stringify(result.validation))
    t.regex(JSON.stringify(result.stats.errors), /column `qty` of the row with key 64 cannot hold the value exactly: 128 is out of the range of a tinyint/)
    t.is((await cql(`SELECT count(*) AS n FROM ${keyspace}.tiny`))[0]!.n, BigInt(300 - refused))
  })

  test('inserts overwrite an existing key unless ifNotExists asks for INSERT … IF NOT EXISTS, which refuses it', async (t) => {
    await cql(`CREATE TABLE ${keyspace}.once (id int PRIMARY KEY, v text)`)
    await cql(`INSERT INTO ${keyspace}.once (id, v) VALUES (1, 'old')`)
    const columns = [col('id', 'integer'), col('v', 'text')]
    const lwt = await openSink(cassandraUrl(keyspace, '&ifNotExists=true'))
    try {
      const result = (await lwt.write({ table: 'once', columns, key: ['id'] }, [{ id: 1, v: 'new' }, { id: 2, v: 'two' }], 'insert'))!
      t.is(result.rejected.length, 1)
      t.is(result.rejected[0]!.index, 0)
      t.regex(String(result.rejected[0]!.error), /the row with key 1 is in the target already \(INSERT … IF NOT EXISTS was not applied\)/)
      // A replay (upsert) is a plain INSERT, lightweight transaction or not.
      t.deepEqual(await lwt.write({ table: 'once', columns, key: ['id'] }, [{ id: 2, v: 'again' }], 'upsert'), { rejected: [] })
    } finally {
      await lwt.close()
    }
    const plain = await openSink(url)
    try {
      t.deepEqual(await plain.write({ table: 'once', columns, key: ['id'] }, [{ id: 1, v: 'new' }], 'insert'), { rejected: [] })
    } finally {
      await plain.close()
    }
    t.deepEqual((await cql(`SELECT id, v FROM ${keyspace}.once`)).map((r) => [r.id, r.v]).sort(), [[1, 'new'], [2, 'again']])
  })

  test('NULL is written as NULL (no stale value stays); nulls=unset leaves the column as it was', async (t) => {
    await cql(`CREATE TABLE ${keyspace}.nulls (id int PRIMARY KEY, a text, b text)`)
    await cql(`INSERT INTO ${keyspace}.nulls (id, a, b) VALUES (1, 'a', 'b')`)
    await cql(`INSERT INTO ${keyspace}.nulls (id, a, b) VALUES (2, 'a', 'b')`)
    const columns = [col('id', 'integer'), col('a', 'text'), col('b', 'text')]
    for (const [params, id] of [['', 1], ['&nulls=unset', 2]] as const) {
      const sink = await openSink(cassandraUrl(keyspace, params))
      try {
        await sink.write({ table: 'nulls', columns, key: ['id'] }, [{ id, a: null, b: 'new' }], 'upsert')
      } finally {
        await sink.close()
      }
    }
    t.deepEqual((await cql(`SELECT id, a, b FROM ${keyspace}.nulls`)).map((r) => [r.id, r.a, r.b]).sort(), [[1, null, 'new'], [2, 'a', 'new']])
  })

  test('validateOnly after one target row was changed, one deleted and one added: validation fails naming each key and the differing column', async (t) => {
    const dir = tempDir()
    const settings = testSettings(dir, { source: itemsDb(join(dir, 'items.db'), range(1, 500)), target: url, sourceTable: 'items', targetTable: 'checked', validate: 'checksum', chunkSize: 100 })
    t.is((await runPipeline(settings)).status, 'SUCCESS')
    await cql(`UPDATE ${keyspace}.checked SET name = 'changed' WHERE id = 7`)
    await cql(`DELETE FROM ${keyspace}.checked WHERE id = 8`)
    await cql(`INSERT INTO ${keyspace}.checked (id, name) VALUES (9999, 'extra')`)
    const checked = await runPipeline(settings, { validateOnly: true })
    t.is(checked.status, 'VALIDATION_FAILED')
    t.like(checked.validation, { passed: false, sourceCount: 500, targetCount: 500, differingKeys: ['7'], missingKeys: ['8'], extraKeys: ['9999'], differingColumns: { name: 1 } })
  })
}
