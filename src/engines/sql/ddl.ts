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
