import { ConfigError } from '../../errors.js'
import type { ColumnInfo, ForeignKeyInfo, TableSchema } from '../../types.js'
import type { SqlSpelling } from './spelling.js'

/** What an engine adds to the columns and table constraints of a whole-database copy's tables. */
export interface CreateExtras {
  /** After the column's type and NOT NULL: its DEFAULT, identity, ON UPDATE; '' for none. */
  column?(column: ColumnInfo): string
  /** Table constraints after the primary key: CHECKs, and SQLite's foreign keys. */
  constraints?(schema: TableSchema): string[]
}

/**
 * `CREATE TABLE` from a schema, keyed on its primary key; `columnType` gives the engine's type
 * (key columns may need a bounded one: the primary key's, and, in a whole-database copy, those of
 * unique indexes and foreign keys).
 */
export function createTableSql(
  sp: SqlSpelling,
  table: string,
  schema: TableSchema,
  columnType: (column: ColumnInfo, isKey: boolean) => string,
  suffix = '',
  extras: CreateExtras = {},
): string {
  const pk = new Set(schema.primaryKey)
  const keys = new Set([
    ...schema.primaryKey,
    ...(schema.indexes ?? []).filter((i) => i.unique).flatMap((i) => i.columns.map((c) => c.name)),
    ...(schema.foreignKeys ?? []).flatMap((f) => f.columns),
  ])
  const columns = schema.columns.map((c) => {
    const notNull = !c.nullable || pk.has(c.name) ? ' NOT NULL' : ''
    const extra = extras.column?.(c) ?? ''
    return `${sp.quote(c.name)} ${columnType(c, keys.has(c.name))}${notNull}${extra ? ` ${extra}` : ''}`
  })
  if (schema.primaryKey.length > 0) columns.push(`PRIMARY KEY (${schema.primaryKey.map(sp.quote).join(', ')})`)
  columns.push(...(extras.constraints?.(schema) ?? []))
  return `CREATE TABLE ${sp.quote(table)} (${columns.join(', ')})${suffix}`
}

/** `CONSTRAINT name CHECK (condition)` for each of the schema's checks (already in the engine's SQL). */
export function checkClauses(sp: SqlSpelling, schema: TableSchema): string[] {
  return (schema.checks ?? []).map((k) => `CONSTRAINT ${sp.quote(k.name)} CHECK (${k.sql})`)
}

/** `FOREIGN KEY (a) REFERENCES parent (id) ON DELETE … ON UPDATE …`, as ALTER TABLE or CREATE TABLE write it. */
export function foreignKeyClause(sp: SqlSpelling, fk: ForeignKeyInfo): string {
  return (
    `CONSTRAINT ${sp.quote(fk.name)} FOREIGN KEY (${fk.columns.map(sp.quote).join(', ')}) REFERENCES ${sp.quote(fk.table)} ` +
    `(${fk.referencedColumns.map(sp.quote).join(', ')}) ON DELETE ${fk.onDelete} ON UPDATE ${fk.onUpdate}`
  )
}

/** ` DEFAULT x` as most engines write it: literals and the current time bare, other expressions in parentheses. */
export function defaultClause(sql: string | undefined): string {
  if (sql === undefined) return ''
  const bare = /^(?:'(?:[^']|'')*'|-?\d+(?:\.\d+)?|TRUE|FALSE|NULL|CURRENT_TIMESTAMP(?:\(\d*\))?|CURRENT_DATE|\(.*\))$/is.test(sql.trim())
  return `DEFAULT ${bare ? sql : `(${sql})`}`
}

/** `writeMode: 'truncate'` on a table other tables' foreign keys reference: what the user can do. */
export function truncateRefused(table: string, referencing: readonly string[], cause: string): ConfigError {
  const others = referencing.map((t) => `\`${t}\``).join(', ') || 'another table'
  return new ConfigError(
    `writeMode 'truncate': target table \`${table}\` cannot be emptied, a foreign key of ${others} references it (${cause}); use writeMode 'upsert' or 'insert' to keep its rows, or empty ${others} first in a \`before\` step`,
  )
}
