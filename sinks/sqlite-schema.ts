import type Database from 'better-sqlite3'
import type { Catalog, SchemaWriter } from '../src/catalog.js'
import { declaredType, describeTable, quoteIdent, sqliteSpelling } from '../src/engines/sqlite.js'
import { sqliteCatalog } from '../src/engines/sqlite-catalog.js'
import { checkClauses, type CreateExtras, defaultClause, foreignKeyClause } from '../src/engines/sql/ddl.js'
import { createIndexSql } from '../src/engines/sql/index-ddl.js'
import type { ColumnInfo, ForeignKeyInfo, IndexInfo, TableSchema } from '../src/types.js'

/**
 * A column's SQLite type in a whole-database copy: an identity key is the rowid (`INTEGER`, which
 * SQLite assigns), ENUM and SET are text (their CHECK comes with the plan), YEAR an integer.
 */
export function sqliteColumnType(column: ColumnInfo, schema: TableSchema): string {
  if (column.identity && schema.primaryKey.length === 1 && schema.primaryKey[0] === column.name) return 'INTEGER'
  if (column.domain?.kind === 'year') return 'INTEGER'
  if (column.domain) return 'TEXT'
  return declaredType(column)
}

/** Defaults and CHECKs with the columns; foreign keys too: SQLite cannot add them to a table later. */
export const sqliteExtras: CreateExtras = {
  column: (c) => defaultClause(c.default),
  constraints: (schema) => [...checkClauses(sqliteSpelling, schema), ...(schema.foreignKeys ?? []).map((fk) => foreignKeyClause(sqliteSpelling, fk))],
}

/**
 * The DDL a whole-database copy runs on a SQLite target after the data. Foreign keys are declared
 * with the tables and not enforced while ferry loads (the sink turns `foreign_keys` off), so
 * `orphans` (PRAGMA foreign_key_check) is how a copy proves them.
 */
export class SqliteSchemaWriter implements SchemaWriter {
  readonly inlineForeignKeys = true
  readonly parallelIndexes = 1

  constructor(
    readonly db: () => Database.Database,
    readonly opened: () => boolean,
  ) {}

  async catalog(): Promise<Catalog> {
    return sqliteCatalog(this.opened() ? this.db() : undefined, describeTable)
  }

  async createIndex(table: string, index: IndexInfo): Promise<void> {
    const db = this.db()
    const level = db.pragma('synchronous', { simple: true }) as number
    // FULL for this commit: the caller forgets the index once it returns.
    db.pragma('synchronous = FULL')
    try {
      db.exec(createIndexSql(sqliteSpelling, table, index, false))
    } finally {
      db.pragma(`synchronous = ${level}`)
    }
  }

  async addForeignKey(table: string, fk: ForeignKeyInfo): Promise<void> {
    throw new Error(`SQLite cannot add foreign key \`${fk.name}\` to the existing table \`${table}\`: it is declared with the table (create the table anew to have it)`)
  }

  async dropForeignKey(): Promise<void> {
    // Never asked: the load does not enforce them (foreign_keys is off in ferry's sessions).
  }

  async resetIdentity(): Promise<void> {
    // The rowid SQLite assigns is always past the largest one.
  }

  async orphans(table: string): Promise<string[]> {
    const rows = this.db().prepare(`PRAGMA foreign_key_check(${quoteIdent(table)})`).all() as { rowid: number | null; parent: string; fkid: number }[]
    return rows.slice(0, 5).map((r) => `row ${r.rowid ?? '?'} of \`${table}\` has no parent in \`${r.parent}\``)
  }
}
