// Spatial columns: MySQL/MariaDB → MySQL/MariaDB keeps each geometry's kind, coordinates and SRID;
// a target without geometry columns is refused before anything is written, naming the columns,
// unless a transform turns them into something else.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { createSource } from '../sources/mysql.js'
import { ConfigError } from '../src/errors.js'
import { geometryText } from '../src/geometry.js'
import { runPipeline } from '../src/run.js'
import type { Row } from '../src/types.js'
import { runId } from './engines.js'
import { exec, query, tempDir, testSettings } from './helpers.js'
import { dropTables, mysqlQuery, pgQuery, requireServers, servers } from './servers.js'

const run = runId('spatial')
const url = servers.mysql
const methods = { load: url, insert: `${url}${url.includes('?') ? '&' : '?'}bulk=insert` } as const

// Every kind, a GEOMETRY column holding rows in different SRIDs, and NULLs.
const rows = [
  [1, 'POINT(1.5 2.25)', 'POLYGON((0 0,4 0,4 4,0 0),(1 1,2 1,2 2,1 1))', ['GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1))', 3857]],
  [2, 'POINT(-70.25 40.125)', 'MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))', ['MULTILINESTRING((0 0,0.1 0.2),(3 3,4 4))', 0]],
  [3, 'POINT(0.1 -0.30000000000000004)', null, ['MULTIPOINT(0 0,1 1,2 2)', 4326]],
  [4, 'POINT(180 -90)', 'POLYGON((0 0,1 0,0 1,0 0))', null],
] as const

async function spatialSource(table: string): Promise<void> {
  const values = rows.map(([id, p, area, any]) =>
    [
      id,
      `ST_GeomFromText('${p}', 4326)`,
      area ? `ST_GeomFromText('${area}', 3857)` : 'NULL',
      any ? `ST_GeomFromText('${any[0]}', ${any[1]})` : 'NULL',
    ].join(', '),
  )
  await mysqlQuery(
    `CREATE TABLE \`${table}\` (id INT PRIMARY KEY, spot POINT REF_SYSTEM_ID=4326 NOT NULL, area GEOMETRY REF_SYSTEM_ID=3857, anything GEOMETRY)`,
    `INSERT INTO \`${table}\` VALUES ${values.map((v) => `(${v})`).join(', ')}`,
  )
}

const columns = ['spot', 'area', 'anything']

/** Each geometry as MariaDB itself describes it: text, SRID and type. */
const geometries = (table: string) =>
  mysqlQuery(
    `SELECT id, ${columns.map((c) => `ST_AsText(\`${c}\`) AS ${c}_wkt, ST_SRID(\`${c}\`) AS ${c}_srid, ST_GeometryType(\`${c}\`) AS ${c}_type`).join(', ')}
     FROM \`${table}\` ORDER BY id`,
  )

const declared = (table: string) =>
  mysqlQuery(
    `SELECT c.COLUMN_NAME AS name, c.COLUMN_TYPE AS type, g.SRID AS srid FROM information_schema.COLUMNS c
     LEFT JOIN information_schema.GEOMETRY_COLUMNS g ON g.G_TABLE_SCHEMA = c.TABLE_SCHEMA AND g.G_TABLE_NAME = c.TABLE_NAME AND g.G_GEOMETRY_COLUMN = c.COLUMN_NAME
     WHERE c.TABLE_SCHEMA = DATABASE() AND c.TABLE_NAME = ? ORDER BY c.ORDINAL_POSITION`.replace('?', `'${table}'`),
  )

const withMysql = await requireServers('mysql')
const withPostgres = withMysql && (await requireServers('postgres'))

if (withMysql) {
  test.after.always(async () => {
    await dropTables(new RegExp(`^${run}`)).catch(() => {})
  })

  test('describe reads spatial columns as geometry with their kind and declared SRID, FLOAT as single precision', async (t) => {
    const table = `${run}_describe`
    await mysqlQuery(
      `CREATE TABLE \`${table}\` (id INT PRIMARY KEY, p POINT REF_SYSTEM_ID=4326, l LINESTRING, y POLYGON, mp MULTIPOINT, ml MULTILINESTRING,
        my MULTIPOLYGON, gc GEOMETRYCOLLECTION, g GEOMETRY REF_SYSTEM_ID=3857, f FLOAT, f30 FLOAT(30), d DOUBLE)`,
    )
    const source = createSource(url)
    await source.open()
    const schema = await source.describe(table).finally(() => source.close())
    const shape = Object.fromEntries(schema.columns.map((c) => [c.name, [c.type, c.precision, c.geometry]]))
    t.deepEqual(shape, {
      id: ['integer', undefined, undefined],
      p: ['geometry', undefined, { kind: 'POINT', srid: 4326 }],
      l: ['geometry', undefined, { kind: 'LINESTRING' }],
      y: ['geometry', undefined, { kind: 'POLYGON' }],
      mp: ['geometry', undefined, { kind: 'MULTIPOINT' }],
      ml: ['geometry', undefined, { kind: 'MULTILINESTRING' }],
      my: ['geometry', undefined, { kind: 'MULTIPOLYGON' }],
      gc: ['geometry', undefined, { kind: 'GEOMETRYCOLLECTION' }],
      g: ['geometry', undefined, { kind: 'GEOMETRY', srid: 3857 }],
      f: ['float', 24, undefined],
      f30: ['float', undefined, undefined],
      d: ['float', undefined, undefined],
    })
  })

  test('geometries are read as EWKB whose EWKT is what MariaDB says of them (text and SRID)', async (t) => {
    const table = `${run}_read`
    await spatialSource(table)
    const source = createSource(url)
    await source.open()
    const read: Row[] = []
    try {
      for await (const page of source.read({ table, key: ['id'], partition: {}, pageSize: 3 })) read.push(...page.rows)
    } finally {
      await source.close()
    }
    const expected = await geometries(table)
    const ewkt = (wkt: unknown, srid: unknown) => (wkt === null ? null : Number(srid) ? `SRID=${String(srid)};${String(wkt)}` : String(wkt))
    t.deepEqual(
      read.map((r) => [r.id, ...columns.map((c) => (r[c] === null ? null : geometryText(r[c] as Buffer)))]),
      expected.map((e) => [e.id, ...columns.map((c) => ewkt(e[`${c}_wkt`], e[`${c}_srid`]))]),
    )
  })

  for (const [method, target] of Object.entries(methods)) {
    test(`${method}: MariaDB → MariaDB keeps every geometry's kind, coordinates and SRID, and the columns' kinds and SRIDs; upserts too`, async (t) => {
      const dir = tempDir()
      const table = `${run}_${method}`
      await spatialSource(table)
      const settings = (writeMode: 'recreate' | 'upsert') =>
        testSettings(dir, { source: url, target, sourceTable: table, targetTable: `${table}_copy`, validate: 'checksum', writeMode })
      const result = await runPipeline(settings('recreate'))
      t.is(result.status, 'SUCCESS', result.error?.message)
      t.true(result.validation?.passed)
      t.deepEqual(await geometries(`${table}_copy`), await geometries(table))
      t.deepEqual(await declared(`${table}_copy`), [
        { name: 'id', type: 'int(11)', srid: null },
        { name: 'spot', type: 'point', srid: 4326 },
        { name: 'area', type: 'geometry', srid: 3857 },
        { name: 'anything', type: 'geometry', srid: 0 },
      ])
      await mysqlQuery(`UPDATE \`${table}\` SET spot = ST_GeomFromText('POINT(9 9)', 4326) WHERE id = 2`)
      const upserted = await runPipeline(settings('upsert'))
      t.is(upserted.status, 'SUCCESS', upserted.error?.message)
      t.deepEqual(await geometries(`${table}_copy`), await geometries(table))
    })
  }

  test('checksum validation finds a target geometry that differs only in its SRID', async (t) => {
    const dir = tempDir()
    const table = `${run}_srid`
    await spatialSource(table)
    const settings = testSettings(dir, { source: url, target: url, sourceTable: table, targetTable: `${table}_copy`, validate: 'checksum' })
    t.is((await runPipeline(settings)).status, 'SUCCESS')
    await mysqlQuery(`UPDATE \`${table}_copy\` SET anything = ST_GeomFromText('MULTIPOINT(0 0,1 1,2 2)', 0) WHERE id = 3`)
    const result = await runPipeline(settings, { validateOnly: true })
    t.is(result.status, 'VALIDATION_FAILED')
    t.like(result.validation, { differingKeys: ['3'], differingColumns: { anything: 1 } })
  })

  test('into SQLite, which has no geometry type, the run is refused before writing, naming the table and every geometry column', async (t) => {
    const dir = tempDir()
    const table = `${run}_to_sqlite`
    await spatialSource(table)
    const target = join(dir, 'target.db')
    const result = await runPipeline(testSettings(dir, { source: url, target: `sqlite:${target}`, sourceTable: table, targetTable: 'geo' }))
    t.is(result.status, 'FAILED')
    t.true(result.error instanceof ConfigError, 'bad input: the CLI exits 2')
    t.is(
      result.error?.message,
      'target table `geo` would get geometry columns `spot` (POINT, SRID 4326), `area` (GEOMETRY, SRID 3857), `anything` (GEOMETRY), but the sqlite target has no geometry type that keeps a geometry\'s kind and SRID; convert them in a `transform` (`geometryText(value)` gives EWKT text such as `SRID=4326;POINT(1.5 2.25)`), or leave them out',
    )
    t.false(existsSync(target), 'nothing was written')
  })

  ;(withPostgres ? test : test.skip)('into PostgreSQL (no PostGIS support), the run is refused before writing, naming the table and the geometry column', async (t) => {
    const dir = tempDir()
    const table = `${run}_to_pg`
    await mysqlQuery(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, spot POINT REF_SYSTEM_ID=4326)`)
    const result = await runPipeline(testSettings(dir, { source: url, target: servers.postgres, sourceTable: table, targetTable: table }))
    t.true(result.error instanceof ConfigError)
    t.regex(result.error!.message, /^target table `\w+` would get geometry column `spot` \(POINT, SRID 4326\), but the postgres target has no geometry type/)
    t.deepEqual(await pgQuery(`SELECT to_regclass('"${table}"') AS t`), [{ t: null }])
  })

  test('into SQLite, a transform that turns geometries into EWKT text works, and validates by checksum', async (t) => {
    const dir = tempDir()
    const table = `${run}_ewkt`
    await spatialSource(table)
    const target = join(dir, 'target.db')
    const text = (v: unknown) => (v instanceof Uint8Array ? geometryText(v) : v)
    const result = await runPipeline(
      testSettings(dir, {
        source: url,
        target: `sqlite:${target}`,
        sourceTable: table,
        targetTable: 'geo',
        validate: 'checksum',
        transform: (row: Row) => ({ ...row, spot: text(row.spot), area: text(row.area), anything: text(row.anything) }),
      }),
    )
    t.is(result.status, 'SUCCESS', result.error?.message)
    t.true(result.validation?.passed)
    t.deepEqual(query(target, 'SELECT * FROM geo WHERE id IN (1, 4) ORDER BY id'), [
      {
        id: 1,
        spot: 'SRID=4326;POINT(1.5 2.25)',
        area: 'SRID=3857;POLYGON((0 0,4 0,4 4,0 0),(1 1,2 1,2 2,1 1))',
        anything: 'SRID=3857;GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1))',
      },
      { id: 4, spot: 'SRID=4326;POINT(180 -90)', area: 'SRID=3857;POLYGON((0 0,1 0,0 1,0 0))', anything: null },
    ])
  })

  test('into an existing table whose column is not a geometry, the run is refused naming both columns', async (t) => {
    const dir = tempDir()
    const table = `${run}_misfit`
    await spatialSource(table)
    await mysqlQuery(`CREATE TABLE \`${table}_copy\` (id INT PRIMARY KEY, spot POINT NOT NULL, area GEOMETRY, anything LONGBLOB)`)
    const result = await runPipeline(testSettings(dir, { source: url, target: url, sourceTable: table, targetTable: `${table}_copy` }))
    t.true(result.error instanceof ConfigError)
    t.is(
      result.error!.message,
      `target table \`${table}_copy\`: geometry column \`anything\` (GEOMETRY) would go into \`longblob\`, which keeps no geometry's kind and SRID; make that column a geometry, or convert it in a \`transform\` (\`geometryText(value)\` gives EWKT text such as \`SRID=4326;POINT(1.5 2.25)\`), or leave it out`,
    )
    t.deepEqual(await mysqlQuery(`SELECT COUNT(*) AS n FROM \`${table}_copy\``), [{ n: 0 }])
  })

  test('a value that is not a geometry, written into a geometry column, is a rejected row naming the column and key', async (t) => {
    const dir = tempDir()
    const table = `${run}_bad_wkb`
    const source = join(dir, 'source.db')
    exec(source, "CREATE TABLE shapes (id INTEGER PRIMARY KEY, spot BLOB); INSERT INTO shapes VALUES (1, X'0101000000000000000000f83f0000000000000240'), (2, X'00ff'), (3, X'0102000000')")
    await mysqlQuery(`CREATE TABLE \`${table}\` (id INT PRIMARY KEY, spot POINT)`)
    const result = await runPipeline(
      testSettings(dir, { source: `sqlite:${source}`, target: url, sourceTable: 'shapes', targetTable: table, onRejectedRow: 'skip', batchSize: 10 }),
    )
    t.is(result.status, 'REJECTED_ROWS', result.error?.message)
    t.deepEqual(
      result.stats.errors.filter((e) => e.kind === 'rejected').map((e) => [e.sampleKeys, e.message.replace(/ \(warning \d+\)$/, '')]),
      [
        [['2'], 'column `spot` takes geometries as EWKB or WKB bytes: not WKB: no byte-order mark and type code'],
        [['3'], 'Cannot get geometry object from data you send to the GEOMETRY field'],
      ],
    )
    t.deepEqual(await mysqlQuery(`SELECT id, ST_AsText(spot) AS spot FROM \`${table}\``), [{ id: 1, spot: 'POINT(1.5 2.25)' }])
  })
}
