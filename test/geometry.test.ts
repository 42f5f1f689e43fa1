import test from 'ava'
import { ewkbFromMysql, GeometryFormatError, geometryText, mysqlFromEwkb } from '../src/geometry.js'

/** WKB built by hand: a byte-order mark, a type code, then the body's numbers. */
function wkb(littleEndian: boolean, type: number, ...parts: (number | Buffer | { count: number })[]): Buffer {
  const head = Buffer.alloc(5)
  head[0] = littleEndian ? 1 : 0
  if (littleEndian) head.writeUInt32LE(type >>> 0, 1)
  else head.writeUInt32BE(type >>> 0, 1)
  const body = parts.map((p) => {
    if (Buffer.isBuffer(p)) return p
    const b = Buffer.alloc(typeof p === 'number' ? 8 : 4)
    if (typeof p === 'number') littleEndian ? b.writeDoubleLE(p) : b.writeDoubleBE(p)
    else littleEndian ? b.writeUInt32LE(p.count) : b.writeUInt32BE(p.count)
    return b
  })
  return Buffer.concat([head, ...body])
}
const n = (count: number) => ({ count })
const point = (x: number, y: number) => wkb(true, 1, x, y)

// PostGIS: SELECT ST_AsEWKB('SRID=4326;POINT(1.5 2.25)'::geometry)
const postgisPoint = '0101000020e6100000000000000000f83f0000000000000240'
// MariaDB: SELECT HEX(ST_GeomFromText('POINT(1.5 2.25)', 4326))
const mariadbPoint = 'e61000000101000000000000000000f83f0000000000000240'

test("MySQL's storage form (SRID, then WKB) becomes PostGIS's EWKB and back, byte for byte", (t) => {
  const ewkb = ewkbFromMysql(Buffer.from(mariadbPoint, 'hex'))
  t.is(ewkb.toString('hex'), postgisPoint)
  t.is(mysqlFromEwkb(ewkb).toString('hex'), mariadbPoint)
  t.is(geometryText(ewkb), 'SRID=4326;POINT(1.5 2.25)')
})

test('a geometry in SRID 0 is plain WKB, and plain WKB is taken as SRID 0', (t) => {
  const stored = Buffer.concat([Buffer.alloc(4), point(1, 2)])
  t.deepEqual(ewkbFromMysql(stored), point(1, 2))
  t.deepEqual(mysqlFromEwkb(point(1, 2)), stored)
  t.is(geometryText(point(1, 2)), 'POINT(1 2)')
})

test('EWKT of every kind, with exact coordinates', (t) => {
  t.is(geometryText(wkb(true, 2, n(3), 0, 0, 0.1, 1, 2, 2)), 'LINESTRING(0 0,0.1 1,2 2)')
  t.is(geometryText(wkb(true, 4, n(2), point(0, 0), point(1, 1))), 'MULTIPOINT(0 0,1 1)')
  const ring = (s: number) => [n(4), 0, 0, s, 0, s, s, 0, 0] as const
  t.is(geometryText(wkb(true, 3, n(2), ...ring(4), ...ring(1))), 'POLYGON((0 0,4 0,4 4,0 0),(0 0,1 0,1 1,0 0))')
  t.is(geometryText(wkb(true, 5, n(1), wkb(true, 2, n(2), 1, 2, 3, 4))), 'MULTILINESTRING((1 2,3 4))')
  t.is(geometryText(wkb(true, 6, n(1), wkb(true, 3, n(1), ...ring(2)))), 'MULTIPOLYGON(((0 0,2 0,2 2,0 0)))')
  t.is(
    geometryText(wkb(true, 7, n(2), point(1, 2), wkb(true, 2, n(2), 0, 0, 1, 1))),
    'GEOMETRYCOLLECTION(POINT(1 2),LINESTRING(0 0,1 1))',
  )
  t.is(geometryText(wkb(true, 7, n(0))), 'GEOMETRYCOLLECTION EMPTY')
  t.is(geometryText(wkb(true, 1, NaN, NaN)), 'POINT EMPTY')
  t.is(geometryText(wkb(true, 1, 123456.7890625, -1e-300)), 'POINT(123456.7890625 -1e-300)')
})

test('EWKT, as PostGIS writes it, of big-endian WKB, of Z and M coordinates (ISO codes and EWKB flags) and of an SRID', (t) => {
  t.is(geometryText(wkb(false, 2, n(2), 1, 2, 3, 4)), 'LINESTRING(1 2,3 4)')
  t.is(geometryText(wkb(true, 1001, 1, 2, 3)), 'POINT(1 2 3)')
  t.is(geometryText(wkb(true, 2001, 1, 2, 3)), 'POINTM(1 2 3)')
  t.is(geometryText(wkb(true, 3001, 1, 2, 3, 4)), 'POINT(1 2 3 4)')
  t.is(geometryText(wkb(true, 1004, n(1), wkb(true, 1001, 1, 2, 3))), 'MULTIPOINT(1 2 3)')
  // 0xa0000001: POINT with the Z and SRID flags; the SRID (3857) follows the type code.
  const flagged = Buffer.concat([Buffer.from('00a000000100000f11', 'hex'), wkb(false, 0, 1, 2, 3).subarray(5)])
  t.is(geometryText(flagged), 'SRID=3857;POINT(1 2 3)')
})

test('a value that is not WKB, or ends early, is refused with GeometryFormatError', (t) => {
  t.throws(() => geometryText(Buffer.from('POINT(1 2)')), { instanceOf: GeometryFormatError })
  t.throws(() => geometryText(point(1, 2).subarray(0, 12)), { instanceOf: GeometryFormatError, message: /ends inside/ })
  t.throws(() => geometryText(Buffer.concat([point(1, 2), Buffer.alloc(1)])), { instanceOf: GeometryFormatError, message: /after the geometry/ })
  t.throws(() => geometryText(wkb(true, 9)), { instanceOf: GeometryFormatError, message: /unknown WKB geometry type 9/ })
  t.throws(() => mysqlFromEwkb(Buffer.alloc(3)), { instanceOf: GeometryFormatError })
  t.throws(() => ewkbFromMysql(Buffer.alloc(5)), { instanceOf: GeometryFormatError })
})
