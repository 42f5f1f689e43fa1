import type { ColumnInfo, KeyTuple } from '../../types.js'
import type { Params } from './spelling.js'

/** The key's columns and how each of its values becomes a parameter. */
export interface KeyColumns {
  readonly columns: readonly ColumnInfo[]
  readonly param: (value: unknown, column: ColumnInfo) => unknown
}

/** `key > tuple` in the engine's order: rows strictly after the tuple. */
export function keyAfter(key: KeyColumns, tuple: KeyTuple, params: Params): string {
  return compare(key, tuple, params, '>', '>')
}

/** `key >= tuple`: rows from the tuple on. */
export function keyAtLeast(key: KeyColumns, tuple: KeyTuple, params: Params): string {
  return compare(key, tuple, params, '>', '>=')
}

/** `key <= tuple`: rows up to and including the tuple. */
export function keyAtMost(key: KeyColumns, tuple: KeyTuple, params: Params): string {
  return compare(key, tuple, params, '<', '<=')
}

function compare(key: KeyColumns, tuple: KeyTuple, params: Params, strict: string, last: string): string {
  const sp = params.spelling
  const names = key.columns.map((c) => sp.quote(c.name))
  // Parameters are added in the order they appear in the text: `?` placeholders are positional.
  const value = (i: number) => params.add(key.param(tuple[i], key.columns[i]!))
  if (names.length === 1) return `${names[0]} ${last} ${value(0)}`
  if (sp.rowValues) return `(${names.join(', ')}) ${last} (${names.map((_, i) => value(i)).join(', ')})`
  // a > x OR (a = x AND (b > y OR (b = y AND c > z))), led by `a >= x` so that an index on the
  // key's first column bounds the scan.
  const from = (i: number): string =>
    i === names.length - 1
      ? `${names[i]} ${last} ${value(i)}`
      : `${names[i]} ${strict} ${value(i)} OR (${names[i]} = ${value(i)} AND (${from(i + 1)}))`
  return `${names[0]} ${strict}= ${value(0)} AND (${from(0)})`
}

/** `key IN (tuples)`, for lookups by key. */
export function keyIn(key: KeyColumns, tuples: readonly KeyTuple[], params: Params): string {
  const sp = params.spelling
  const names = key.columns.map((c) => sp.quote(c.name))
  const value = (t: KeyTuple, i: number) => params.add(key.param(t[i], key.columns[i]!))
  if (names.length === 1) return `${names[0]} IN (${tuples.map((t) => value(t, 0)).join(', ')})`
  return `(${tuples.map((t) => `(${names.map((n, i) => `${n} = ${value(t, i)}`).join(' AND ')})`).join(' OR ')})`
}

/** ` WHERE a AND b …`, or nothing. */
export function whereOf(conditions: readonly string[]): string {
  return conditions.length ? ` WHERE ${conditions.map((c) => `(${c})`).join(' AND ')}` : ''
}
