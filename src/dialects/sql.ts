import { ConfigError } from '../errors.js'
import type { ColumnInfo, Key, KeyRange, TableSchema } from '../types.js'

/** How an SQL engine spells identifiers and parameters: all the SQL builders below need. */
export interface SqlSpelling {
  /** The identifier's quote character; a quote inside a name is doubled. */
  readonly quote: '"' | '`'
  /** The n-th parameter (1-based): `?` or `$n`. */
  readonly param: (n: number) => string
}

/** Quotes a table or column name so that no name — spaces, quotes, reserved words — is read as SQL. */
export function quoteWith(quote: SqlSpelling['quote'], name: string): string {
  if (name.includes('\0')) throw new ConfigError(`identifier ${JSON.stringify(name)} contains a NUL`)
  return `${quote}${name.replaceAll(quote, quote + quote)}${quote}`
}

/**
 * ` WHERE (filter) AND key > p1 AND key <= p2` and its parameters, for a user filter ANDed with a
 * key range; empty when there is neither. `first` numbers the first parameter.
 */
export function keyRangeWhere(
  sql: SqlSpelling,
  key: string,
  range: KeyRange,
  where?: string,
  first = 1,
): [string, Key[]] {
  const conditions: string[] = []
  const params: Key[] = []
  if (where) conditions.push(`(${where})`)
  const k = quoteWith(sql.quote, key)
  if (range.gt !== undefined) {
    params.push(range.gt)
    conditions.push(`${k} > ${sql.param(first + params.length - 1)}`)
  }
  if (range.lte !== undefined) {
    params.push(range.lte)
    conditions.push(`${k} <= ${sql.param(first + params.length - 1)}`)
  }
  return [conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '', params]
}

/** `CREATE TABLE` from a schema; `columnType` gives the engine's type (key columns may differ). */
export function createTableWith(
  sql: SqlSpelling,
  table: string,
  schema: TableSchema,
  columnType: (column: ColumnInfo, isKey: boolean) => string,
  suffix = '',
): string {
  const q = (name: string) => quoteWith(sql.quote, name)
  const keys = new Set(schema.primaryKey)
  const columns = schema.columns.map((c) => `${q(c.name)} ${columnType(c, keys.has(c.name))}${c.nullable ? '' : ' NOT NULL'}`)
  if (schema.primaryKey.length > 0) columns.push(`PRIMARY KEY (${schema.primaryKey.map(q).join(', ')})`)
  return `CREATE TABLE ${q(table)} (${columns.join(', ')})${suffix}`
}

/** The query for the largest key in a range: ORDER BY works for every key type, MAX() not for uuid. */
export function maxKeyQuery(sql: SqlSpelling, table: string, key: string, range: KeyRange, where?: string): [string, Key[]] {
  const [clause, params] = keyRangeWhere(sql, key, range, where)
  const k = quoteWith(sql.quote, key)
  return [`SELECT ${k} AS k FROM ${quoteWith(sql.quote, table)}${clause} ORDER BY ${k} DESC LIMIT 1`, params]
}
