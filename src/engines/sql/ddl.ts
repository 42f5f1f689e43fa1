import { ConfigError } from '../../errors.js'
import type { ColumnInfo, TableSchema } from '../../types.js'
import type { SqlSpelling } from './spelling.js'

/**
 * `CREATE TABLE` from a schema, keyed on its primary key; `columnType` gives the engine's type
 * (key columns may need a bounded one).
 */
export function createTableSql(
  sp: SqlSpelling,
  table: string,
  schema: TableSchema,
  columnType: (column: ColumnInfo, isKey: boolean) => string,
  suffix = '',
): string {
  const keys = new Set(schema.primaryKey)
  const columns = schema.columns.map((c) => {
    const notNull = !c.nullable || keys.has(c.name) ? ' NOT NULL' : ''
    return `${sp.quote(c.name)} ${columnType(c, keys.has(c.name))}${notNull}`
  })
  if (schema.primaryKey.length > 0) columns.push(`PRIMARY KEY (${schema.primaryKey.map(sp.quote).join(', ')})`)
  return `CREATE TABLE ${sp.quote(table)} (${columns.join(', ')})${suffix}`
}

/** `writeMode: 'truncate'` on a table other tables' foreign keys reference: what the user can do. */
export function truncateRefused(table: string, referencing: readonly string[], cause: string): ConfigError {
  const others = referencing.map((t) => `\`${t}\``).join(', ') || 'another table'
  return new ConfigError(
    `writeMode 'truncate': target table \`${table}\` cannot be emptied, a foreign key of ${others} references it (${cause}); use writeMode 'upsert' or 'insert' to keep its rows, or empty ${others} first in a \`before\` step`,
  )
}
