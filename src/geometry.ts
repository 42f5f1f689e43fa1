/**
 * Geometries travel as EWKB, PostGIS's extended WKB: the WKB of the geometry with the SRID written
 * after its type code (flagged 0x20000000), so that one Buffer keeps the kind, every coordinate
 * exactly and the SRID. A geometry in SRID 0 (none) is plain WKB. The helpers here convert
 * MySQL's storage form to and from it, and write it as EWKT for people and for transforms.
 */
import type { GeometryKind } from './types.js'

const sridFlag = 0x20000000
const zFlag = 0x80000000
const mFlag = 0x40000000

/** The WKB type codes, 1 to 7. */
const kinds: readonly GeometryKind[] = [
  'POINT',
  'LINESTRING',
  'POLYGON',
  'MULTIPOINT',
  'MULTILINESTRING',
  'MULTIPOLYGON',
  'GEOMETRYCOLLECTION',
]

/** Not a geometry this module can read: the caller turns it into a rejected row or a failed read. */
export class GeometryFormatError extends Error {}

interface Header {
  readonly littleEndian: boolean
  /** The type code without the SRID flag. */
  readonly type: number
  readonly srid: number
  /** Where the body (after the type code and any SRID) starts. */
  readonly body: number
}

function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

function headerOf(b: Buffer, at = 0): Header {
  if (b.length < at + 5 || b[at]! > 1) throw new GeometryFormatError('not WKB: no byte-order mark and type code')
  const littleEndian = b[at] === 1
  const code = littleEndian ? b.readUInt32LE(at + 1) : b.readUInt32BE(at + 1)
  if (!(code & sridFlag)) return { littleEndian, type: code, srid: 0, body: at + 5 }
  if (b.length < at + 9) throw new GeometryFormatError('EWKB flags an SRID but ends before it')
  const srid = littleEndian ? b.readUInt32LE(at + 5) : b.readUInt32BE(at + 5)
  return { littleEndian, type: (code & ~sridFlag) >>> 0, srid, body: at + 9 }
}

function writeUInt32(b: Buffer, value: number, at: number, littleEndian: boolean): void {
  if (littleEndian) b.writeUInt32LE(value >>> 0, at)
  else b.writeUInt32BE(value >>> 0, at)
}

/** EWKB (or WKB, as SRID 0) of a type code, an SRID and a body, in the body's byte order. */
function ewkb(littleEndian: boolean, type: number, srid: number, body: Buffer): Buffer {
  const head = Buffer.alloc(srid ? 9 : 5)
  head[0] = littleEndian ? 1 : 0
  writeUInt32(head, srid ? type | sridFlag : type, 1, littleEndian)
  if (srid) writeUInt32(head, srid, 5, littleEndian)
  return Buffer.concat([head, body])
}

/** MySQL's storage form (a 4-byte little-endian SRID, then WKB) → EWKB. */
export function ewkbFromMysql(stored: Uint8Array): Buffer {
  const b = bufferOf(stored)
  if (b.length < 9) throw new GeometryFormatError(`${b.length} bytes are too few for MySQL's geometry form`)
  const h = headerOf(b, 4)
  return ewkb(h.littleEndian, h.type, b.readUInt32LE(0), b.subarray(h.body))
}

/** EWKB (or WKB, taken as SRID 0) → MySQL's storage form, which geometry columns take as they are. */
export function mysqlFromEwkb(value: Uint8Array): Buffer {
  const b = bufferOf(value)
  const h = headerOf(b)
  const out = Buffer.alloc(9 + b.length - h.body)
  out.writeUInt32LE(h.srid, 0)
  out[4] = h.littleEndian ? 1 : 0
  writeUInt32(out, h.type, 5, h.littleEndian)
  b.copy(out, 9, h.body)
  return out
}

/**
 * EWKT of an EWKB value, as PostGIS writes it: `SRID=4326;POINT(1.5 2.25)`, without the prefix in
 * SRID 0. Coordinates are JavaScript's shortest exact form of each double, so nothing is rounded:
 * a transform can carry a geometry into a database without a geometry type as this text.
 */
export function geometryText(value: Uint8Array): string {
  const reader = new WkbReader(bufferOf(value))
  const text = reader.geometry()
  if (reader.at !== reader.b.length) throw new GeometryFormatError(`${reader.b.length - reader.at} bytes after the geometry`)
  return reader.srid ? `SRID=${reader.srid};${text}` : text
}

class WkbReader {
  at = 0
  srid = 0
  #littleEndian = true

  constructor(readonly b: Buffer) {}

  geometry(): string {
    const h = headerOf(this.b, this.at)
    if (h.srid) this.srid = h.srid
    this.#littleEndian = h.littleEndian
    this.at = h.body
    // EWKB flags Z and M in the high bits, ISO WKB adds 1000 (Z), 2000 (M) or 3000 (ZM).
    const iso = Math.floor((h.type & 0xffff) / 1000)
    const z = (h.type & zFlag) !== 0 || iso === 1 || iso === 3
    const m = (h.type & mFlag) !== 0 || iso === 2 || iso === 3
    const kind = kinds[((h.type & 0xffff) % 1000) - 1]
    if (!kind) throw new GeometryFormatError(`unknown WKB geometry type ${h.type & 0xffff}`)
    const body = this.#body(kind, 2 + Number(z) + Number(m))
    // EWKT names only M without Z (`POINTM(1 2 3)`); the count of coordinates says the rest.
    return `${kind}${m && !z ? 'M' : ''}${body}`
  }

  #body(kind: GeometryKind, dims: number): string {
    switch (kind) {
      case 'POINT': {
        const point = this.#point(dims)
        // An empty point is written with NaN coordinates.
        return point.includes('NaN') ? ' EMPTY' : `(${point})`
      }
      case 'LINESTRING':
        return this.#list(() => this.#point(dims))
      case 'POLYGON':
        return this.#list(() => this.#list(() => this.#point(dims)))
      default:
        // Multi-geometries and collections hold whole geometries, each with its own header.
        return this.#list(() => this.#member(kind))
    }
  }

  #member(kind: GeometryKind): string {
    const text = this.geometry()
    if (kind === 'GEOMETRYCOLLECTION') return text
    // Members without their kind; a MULTIPOINT's points without parentheses too, as MySQL,
    // MariaDB and PostGIS write them: `MULTIPOINT(0 0,1 1)`.
    const body = text.replace(/^[A-Z]+/, '')
    return kind === 'MULTIPOINT' ? body.replace(/^\((.*)\)$/, '$1') : body
  }

  #list(item: () => string): string {
    const n = this.#uint32()
    if (n === 0) return ' EMPTY'
    const items: string[] = []
    for (let i = 0; i < n; i++) items.push(item().replace(/^ EMPTY$/, 'EMPTY'))
    return `(${items.join(',')})`
  }

  #point(dims: number): string {
    const coords: number[] = []
    for (let i = 0; i < dims; i++) {
      this.#need(8)
      coords.push(this.#littleEndian ? this.b.readDoubleLE(this.at) : this.b.readDoubleBE(this.at))
      this.at += 8
    }
    return coords.map(String).join(' ')
  }

  #uint32(): number {
    this.#need(4)
    const n = this.#littleEndian ? this.b.readUInt32LE(this.at) : this.b.readUInt32BE(this.at)
    this.at += 4
    return n
  }

  #need(bytes: number): void {
    if (this.at + bytes > this.b.length) throw new GeometryFormatError('WKB ends inside a geometry')
  }
}
