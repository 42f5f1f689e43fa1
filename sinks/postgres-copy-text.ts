import { faultPoint } from '../src/faults.js'
import type { ColumnInfo, Row } from '../src/types.js'
import { jsonText } from '../src/values.js'

/** The rows in COPY text format, in chunks of about 64 KiB. */
export function* copyText(columns: readonly ColumnInfo[], rows: readonly Row[]): Generator<string> {
  const names = columns.map((c) => c.name)
  const encoders = columns.map(copyEncoder)
  const half = rows.length >> 1
  let chunk = ''
  for (let i = 0; i < rows.length; i++) {
    if (i === half) faultPoint('sink-write')
    const row = rows[i]!
    let line = encoders[0]!(row[names[0]!])
    for (let c = 1; c < names.length; c++) line += '\t' + encoders[c]!(row[names[c]!])
    chunk += line + '\n'
    if (chunk.length >= 65_536) {
      yield chunk
      chunk = ''
    }
  }
  if (chunk) yield chunk
}

// https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2 (text format)
const copySpecial = /[\\\n\r\t]/
const copySpecials = /[\\\n\r\t]/g
const copyEscapes: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' }

function escapeCopy(text: string): string {
  return copySpecial.test(text) ? text.replace(copySpecials, (c) => copyEscapes[c]!) : text
}

/** A column's encoder, chosen once per batch rather than per value. */
function copyEncoder(column: ColumnInfo): (value: unknown) => string {
  if (column.type === 'json') return (v) => (v === null || v === undefined ? '\\N' : escapeCopy(jsonText(v)))
  if (column.type === 'integer' || column.type === 'bigint') {
    return (v) => (v === null || v === undefined ? '\\N' : typeof v === 'number' || typeof v === 'bigint' ? String(v) : copyField(v, column))
  }
  return (v) => copyField(v, column)
}

function copyField(value: unknown, column: ColumnInfo): string {
  if (value === null || value === undefined) return '\\N'
  // Parsed JSON: a string here is a JSON string value, not JSON text.
  if (column.type === 'json') return escapeCopy(jsonText(value))
  switch (typeof value) {
    case 'string':
      return escapeCopy(value)
    case 'number':
    case 'bigint':
      return String(value)
    case 'boolean':
      return value ? 'true' : 'false'
  }
  if (value instanceof Uint8Array) {
    return `\\\\x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}`
  }
  if (value instanceof Date) return column.type === 'date' ? value.toISOString().slice(0, 10) : value.toISOString()
  return escapeCopy(jsonText(value))
}
