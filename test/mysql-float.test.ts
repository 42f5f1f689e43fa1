// MariaDB FLOAT (single precision) is read as the value stored, everywhere a value is read: pages,
// partition bounds, validation lookups. A FLOAT target column takes only values it holds exactly.
import { join } from 'node:path'
import test from 'ava'
import { runPipeline } from '../src/run.js'
import { runId } from './engines.js'
import { exec, tempDir, testSettings } from './helpers.js'
import { dropTables, mysqlQuery, requireServers, servers } from './servers.js'

const run = runId('float')
const url = servers.mysql
const methods = { load: url, insert: `${url}${url.includes('?') ? '&' : '?'}bulk=insert` } as const

if (await requireServers('mysql')) {
  test.after.always(async () => {
    await dropTables(new RegExp(`^${run}`)).catch(() => {})
  })

  /** The exact values of a table's FLOAT columns, as doubles. */
  const stored = (table: string) => mysqlQuery(`SELECT CAST(k AS DOUBLE) AS k, CAST(v AS DOUBLE) AS v FROM \`${table}\` ORDER BY k`)

  test('a FLOAT key is cut into chunks and read exactly: every row arrives once, as stored, and validates by checksum', async (t) => {
    const dir = tempDir()
    const table = `${run}_key`
    // 50 keys whose 6-digit text collides (1234.56, 1234.57… all read as 1234.56 or so through the text protocol).
    const values = Array.from({ length: 50 }, (_, i) => `(${1234.5 + i * 0.001}, ${i * 1.1})`)
    await mysqlQuery(`CREATE TABLE \`${table}\` (k FLOAT PRIMARY KEY, v FLOAT NOT NULL)`, `INSERT INTO \`${table}\` VALUES ${values.join(', ')}`)
    const result = await runPipeline(
      testSettings(dir, { source: url, target: url, sourceTable: table, targetTable: `${table}_copy`, strategy: 'chunked', chunkSize: 7, batchSize: 5, validate: 'checksum' }),
    )
    t.is(result.status, 'SUCCESS', result.error?.message)
    t.is(result.stats.migrated, 50)
    t.true(result.validation?.passed)
    t.deepEqual(await stored(`${table}_copy`), await stored(table))
    const types = await mysqlQuery(`SELECT DATA_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}_copy' ORDER BY ORDINAL_POSITION`)
    t.deepEqual(types, [{ t: 'double' }, { t: 'double' }], 'ferry creates DOUBLE, which holds every FLOAT value')
  })

  test('into an existing FLOAT column, checksum validation compares the stored values and finds a change below the 6th digit', async (t) => {
    const dir = tempDir()
    const table = `${run}_existing`
    await mysqlQuery(
      `CREATE TABLE \`${table}\` (k INT PRIMARY KEY, v FLOAT NOT NULL)`,
      `INSERT INTO \`${table}\` VALUES (1, 123456.789), (2, 16777216), (3, 0.1)`,
      `CREATE TABLE \`${table}_copy\` (k INT PRIMARY KEY, v FLOAT NOT NULL)`,
    )
    const settings = testSettings(dir, { source: url, target: url, sourceTable: table, targetTable: `${table}_copy`, validate: 'checksum' })
    const result = await runPipeline(settings)
    t.is(result.status, 'SUCCESS', result.error?.message)
    t.true(result.validation?.passed)
    // 123456.796875, the next float: the same 6-digit text, another value.
    await mysqlQuery(`UPDATE \`${table}_copy\` SET v = 123456.796875 WHERE k = 1`)
    const changed = await runPipeline(settings, { validateOnly: true })
    t.is(changed.status, 'VALIDATION_FAILED')
    t.like(changed.validation, { differingKeys: ['1'] })
  })

  for (const [method, target] of Object.entries(methods)) {
    test(`${method}: a value that is not a single-precision float is a rejected row for a FLOAT column, never rounded`, async (t) => {
      const dir = tempDir()
      const table = `${run}_${method}_reject`
      const source = join(dir, 'source.db')
      exec(source, 'CREATE TABLE items (id INTEGER PRIMARY KEY, v REAL); INSERT INTO items VALUES (1, 0.1), (2, 123456.7890625), (3, 16777217), (4, 1.5), (5, NULL)')
      await mysqlQuery(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, v FLOAT)`)
      const result = await runPipeline(
        testSettings(dir, { source: `sqlite:${source}`, target, sourceTable: 'items', targetTable: table, onRejectedRow: 'skip', validate: 'checksum' }),
      )
      t.is(result.status, 'REJECTED_ROWS', result.error?.message)
      t.like(
        result.stats.errors.filter((e) => e.kind === 'rejected'),
        [
          {
            message: 'column `v` of the row with key 1 cannot hold the value exactly: 0.1 is not a single-precision float (the column would store 0.10000000149011612)',
            count: 2,
            sampleKeys: ['1', '3'],
          },
        ],
        'one cause: rows 1 and 3',
      )
      t.deepEqual(await mysqlQuery(`SELECT id, CAST(v AS DOUBLE) AS v FROM \`${table}\` ORDER BY id`), [
        { id: 2, v: 123456.7890625 },
        { id: 4, v: 1.5 },
        { id: 5, v: null },
      ])
    })
  }
}
