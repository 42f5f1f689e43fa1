// Issue 10, items 3 and 4: MariaDB FLOAT columns arrive as the values MariaDB stores (not the text
// protocol's 6 significant digits), validation compares them as stored; spatial columns arrive
// faithfully (type and SRID) or the run refuses them naming the column — never a silent change.
import { join } from 'node:path'
import test from 'ava'
import { runPipeline } from '../src/run.js'
import { runId } from './engines.js'
import { exec, query, tempDir, testSettings } from './helpers.js'
import { dropTables, mysqlQuery, pgQuery, requireServers, servers } from './servers.js'

const run = runId('exact')

const withMysql = await requireServers('mysql')
const withPostgres = withMysql && (await requireServers('postgres'))

if (withMysql) {
  test.after.always(async () => {
    await dropTables(new RegExp(`^${run}`)).catch(() => {})
  })

  // Single-precision values whose shortest text has more than 6 significant digits.
  const floats = [123456.789, 16777216, 0.1, -98765.4321, 1.5, 3.14159265]

  /** A MariaDB table with a FLOAT column; returns the exact values MariaDB stores, by id. */
  async function floatSource(table: string): Promise<Map<number, number>> {
    await mysqlQuery(
      `CREATE TABLE \`${table}\` (id INT PRIMARY KEY, f FLOAT NOT NULL)`,
      `INSERT INTO \`${table}\` VALUES ${floats.map((v, i) => `(${i + 1}, ${v})`).join(', ')}`,
    )
    const stored = await mysqlQuery<{ id: number; d: number | string }>(`SELECT id, CAST(f AS DOUBLE) AS d FROM \`${table}\` ORDER BY id`)
    return new Map(stored.map((r) => [Number(r.id), Number(r.d)]))
  }

  test('MariaDB FLOAT values arrive in SQLite as the exact values MariaDB stores (123456.789 → 123456.7890625, 16777216)', async (t) => {
    const dir = tempDir()
    const table = `${run}_float_sqlite`
    const stored = await floatSource(table)
    t.is(stored.get(1), 123456.7890625)
    t.is(stored.get(2), 16777216)
    const target = join(dir, 'target.db')
    const result = await runPipeline(
      testSettings(dir, { source: servers.mysql, target: `sqlite:${target}`, sourceTable: table, targetTable: 'floats', validate: 'checksum' }),
    )
    t.is(result.status, 'SUCCESS', result.error?.message)
    const landed = new Map(query<{ id: number; f: number }>(target, 'SELECT id, f FROM floats ORDER BY id').map((r) => [r.id, r.f]))
    t.deepEqual(landed, stored)
  })

  ;(withPostgres ? test : test.skip)('MariaDB FLOAT values arrive in PostgreSQL as the exact values MariaDB stores', async (t) => {
    const dir = tempDir()
    const table = `${run}_float_pg`
    const stored = await floatSource(table)
    const result = await runPipeline(
      testSettings(dir, { source: servers.mysql, target: servers.postgres, sourceTable: table, targetTable: table, validate: 'checksum' }),
    )
    t.is(result.status, 'SUCCESS', result.error?.message)
    const landed = await pgQuery<{ id: number; f: string }>(`SELECT id, f::float8::text AS f FROM "${table}" ORDER BY id`)
    t.deepEqual(new Map(landed.map((r) => [r.id, Number(r.f)])), stored)
  })

  test('checksum validation finds a target value equal to the 6-digit text of a MariaDB FLOAT but not to the stored value', async (t) => {
    const dir = tempDir()
    const table = `${run}_float_validate`
    await floatSource(table)
    const target = join(dir, 'target.db')
    const settings = testSettings(dir, { source: servers.mysql, target: `sqlite:${target}`, sourceTable: table, targetTable: 'floats', validate: 'checksum' })
    t.is((await runPipeline(settings)).status, 'SUCCESS')
    // What the text protocol shows for the stored 123456.7890625: not the stored value.
    exec(target, 'UPDATE floats SET f = 123457 WHERE id = 1')
    const result = await runPipeline(settings, { validateOnly: true })
    t.is(result.status, 'VALIDATION_FAILED')
    t.like(result.validation, { passed: false, differingKeys: ['1'] })
  })

  /** A MariaDB table with POINT, LINESTRING and MULTIPOINT columns in SRID 4326. */
  async function spatialSource(table: string): Promise<void> {
    await mysqlQuery(
      `CREATE TABLE \`${table}\` (id INT PRIMARY KEY, geo_point POINT REF_SYSTEM_ID=4326 NOT NULL,
        geo_line LINESTRING REF_SYSTEM_ID=4326 NOT NULL, geo_multi MULTIPOINT REF_SYSTEM_ID=4326 NOT NULL)`,
      `INSERT INTO \`${table}\` VALUES
        (1, ST_GeomFromText('POINT(1.5 2.25)', 4326), ST_GeomFromText('LINESTRING(0 0, 1 1, 2 2)', 4326), ST_GeomFromText('MULTIPOINT(0 0, 1 1, 2 2)', 4326)),
        (2, ST_GeomFromText('POINT(-70.25 40.125)', 4326), ST_GeomFromText('LINESTRING(5 5, 6 7)', 4326), ST_GeomFromText('MULTIPOINT(5 5, 6 7)', 4326))`,
    )
  }

  const geoColumns = ['geo_point', 'geo_line', 'geo_multi']

  const geometries = (table: string) =>
    mysqlQuery(
      `SELECT id, ${geoColumns.map((c) => `ST_AsText(\`${c}\`) AS ${c}_wkt, ST_SRID(\`${c}\`) AS ${c}_srid, ST_GeometryType(\`${c}\`) AS ${c}_type`).join(', ')}
       FROM \`${table}\` ORDER BY id`,
    )

  test('MariaDB spatial columns (POINT, LINESTRING, MULTIPOINT, SRID 4326) arrive in MariaDB with their type and SRID, or the run refuses naming the column', async (t) => {
    const dir = tempDir()
    const table = `${run}_geo`
    await spatialSource(table)
    const result = await runPipeline(
      testSettings(dir, { source: servers.mysql, target: servers.mysql, sourceTable: table, targetTable: `${table}_copy`, validate: 'checksum' }),
    )
    if (result.status !== 'SUCCESS') {
      t.is(result.status, 'FAILED', 'a refusal, not a validation difference')
      const message = result.error?.message ?? ''
      t.true(geoColumns.some((c) => message.includes(c)), `the refusal names the spatial column: ${message}`)
      return
    }
    const expected = await geometries(table)
    let actual: unknown
    try {
      actual = await geometries(`${table}_copy`)
    } catch (err) {
      const columns = await mysqlQuery(`SELECT COLUMN_NAME AS c, COLUMN_TYPE AS t FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}_copy'`)
      return t.fail(`SUCCESS, but the target's columns are not geometries (${JSON.stringify(columns)}): ${(err as Error).message}`)
    }
    t.deepEqual(actual, expected)
  })

  /** Whether a value carries a geometry of the WKB type code `code` (named `name`) in SRID 4326. */
  function carriesGeometry(value: unknown, name: string, code: number): boolean {
    if (typeof value === 'string') return new RegExp(name, 'i').test(value) && /4326/.test(value)
    if (!(value instanceof Uint8Array)) return false
    const hex = Buffer.from(value).toString('hex')
    const srid = hex.includes('e6100000') || hex.includes('000010e6')
    const le = (n: number) => Buffer.from(Uint32Array.of(n).buffer).toString('hex')
    const be = (n: number) => n.toString(16).padStart(8, '0')
    const types = [code, code | 0x20000000].flatMap((n) => [`01${le(n)}`, `00${be(n)}`])
    return srid && types.some((t) => hex.includes(t))
  }

  test('MariaDB LINESTRING and MULTIPOINT of the same points do not arrive identical in SQLite, and keep their SRID, or the run refuses naming the column', async (t) => {
    const dir = tempDir()
    const table = `${run}_geo_sqlite`
    await spatialSource(table)
    const target = join(dir, 'target.db')
    const result = await runPipeline(
      testSettings(dir, { source: servers.mysql, target: `sqlite:${target}`, sourceTable: table, targetTable: 'geo', validate: 'checksum' }),
    )
    if (result.status !== 'SUCCESS') {
      t.is(result.status, 'FAILED', 'a refusal, not a validation difference')
      const message = result.error?.message ?? ''
      t.true(geoColumns.some((c) => message.includes(c)), `the refusal names the spatial column: ${message}`)
      return
    }
    const rows = query<Record<string, unknown>>(target, 'SELECT * FROM geo ORDER BY id')
    t.is(rows.length, 2)
    for (const row of rows) {
      t.notDeepEqual(row.geo_line, row.geo_multi, `row ${String(row.id)}: a LINESTRING and a MULTIPOINT of the same points differ`)
      t.true(carriesGeometry(row.geo_point, 'POINT', 1), `geo_point keeps type and SRID: ${String(row.geo_point)}`)
      t.true(carriesGeometry(row.geo_line, 'LINESTRING', 2), `geo_line keeps type and SRID: ${String(row.geo_line)}`)
      t.true(carriesGeometry(row.geo_multi, 'MULTIPOINT', 4), `geo_multi keeps type and SRID: ${String(row.geo_multi)}`)
    }
  })
}
