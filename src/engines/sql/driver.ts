import type { ColumnInfo, Row, TableSchema } from '../../types.js'
import type { SqlSpelling } from './spelling.js'

/**
 * One open connection of an SQL engine, as the shared SQL base uses it: run a query, turn what the
 * driver returns into the shared value forms (src/values.ts), and turn those back into parameters.
 */
export interface SqlDriver {
  readonly engine: string
  readonly spelling: SqlSpelling
  /** Rows as the driver returns them, before `decoder`. */
  query(sql: string, params: readonly unknown[]): Promise<Row[]>
  /** Rewrites a raw row in place into the shared value forms. */
  decoder(schema: TableSchema): (row: Row) => void
  /**
   * Optional: the SQL expression that reads `column` exactly, where the driver's plain read of it
   * is lossy (MariaDB's FLOAT through the text protocol: `CAST(\`f\` AS DOUBLE)`); undefined for
   * the column itself. Every read uses it (pages, partition bounds, lookups), so that a value is
   * compared as stored; `decoder` then gets the expression's value under the column's name.
   */
  selectExpression?(column: ColumnInfo): string | undefined
  /** A value in the shared forms as a parameter compared with `column`. */
  param(value: unknown, column: ColumnInfo): unknown
  /** The table's schema, or undefined when there is none of that name. */
  describe(table: string): Promise<TableSchema | undefined>
  /** `postgres database \`app\``: where tables are looked for, for messages. */
  readonly place: string
  /**
   * Optional: one query's rows in pages through a server-side cursor, each page of `pageRows()`
   * rows (asked before each fetch: wide rows make smaller pages). Without it, keyset pages are
   * separate `LIMIT` queries.
   */
  cursor?(sql: string, params: readonly unknown[], pageRows: () => number): AsyncIterable<Row[]>
}
