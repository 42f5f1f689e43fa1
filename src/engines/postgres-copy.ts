import type { ColumnInfo, Row } from '../types.js'
import { Params } from './sql/spelling.js'

/** The raw format PostgreSQL's source and sink share: COPY's text format. */
export const copyTextFormat = 'postgres-copy-text'

// https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2 (text format): a
// backslash escapes the next character, or starts an octal or hex byte; `\N` is NULL.
const escapes = /\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/gs
const named: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }

/** A field of COPY text as the server's text for the value (null for `\N`). */
export function unescapeCopy(field: string): string | null {
  if (field === '\\N') return null
  if (!field.includes('\\')) return field
  return field.replace(escapes, (_, e: string) => {
    if (e[0] === 'x' && e.length > 1) return String.fromCharCode(parseInt(e.slice(1), 16))
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8))
    return named[e] ?? e
  })
}

/** One line of COPY text (without its newline) as a row, each field through its column's parser. */
export function copyLineRow(line: string, columns: readonly string[], parsers: readonly ((text: string) => unknown)[]): Row {
  const fields = line.split('\t')
  const row: Row = {}
  for (let i = 0; i < columns.length; i++) {
    const text = unescapeCopy(fields[i]!)
    row[columns[i]!] = text === null ? null : parsers[i]!(text)
  }
  return row
}

/**
 * Literals in place of parameters: COPY takes no parameters, so a raw read's key bounds are
 * written into its text, each as an escaped string literal (E'…', whatever
 * `standard_conforming_strings` says) that PostgreSQL types by the column it is compared with.
 */
export class Literals extends Params {
  override add(value: unknown): string {
    const text = value instanceof Uint8Array ? `\\x${Buffer.from(value).toString('hex')}` : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)
    if (text.includes('\0')) throw new Error('a key value holds a NUL, which PostgreSQL text cannot')
    return `E'${text.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`
  }
}

/**
 * Whether the source column's COPY text, written as it is into the target column, stores what the
 * decoded path would (or is refused where it would be). Values pg's parsers keep as the server's
 * text (numeric, date, timestamp, text, uuid, …) and integers and bytea are the same text either
 * way; booleans, floats, JSON and timestamptz are re-spelled by the decoded path, so they need a
 * target of their own type. Where the decoded path refuses values the target would round
 * (`checkRows`), the target must not round the source's: a decimal or timestamp no less precise.
 */
export function acceptsCopyText(from: ColumnInfo, to: ColumnInfo): boolean {
  if (from.nativeType === to.nativeType && from.precision === to.precision && from.scale === to.scale) return true
  const respelled = from.type === 'boolean' || from.type === 'float' || from.type === 'json' || from.type === 'timestamptz'
  if (respelled && from.type !== to.type) return false
  switch (to.type) {
    case 'decimal':
      if (to.scale === undefined && to.precision === undefined) return true
      if (from.type === 'integer' || from.type === 'bigint') return true
      return from.type === 'decimal' && from.scale !== undefined && from.scale <= (to.scale ?? 0)
    case 'timestamp':
    case 'timestamptz':
      return (from.type === 'timestamp' || from.type === 'timestamptz' || from.type === 'date') && (from.scale ?? 6) <= (to.scale ?? 6)
    case 'float':
      return to.precision === undefined
    default:
      return true
  }
}
