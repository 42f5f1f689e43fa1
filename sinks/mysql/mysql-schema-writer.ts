import type { Catalog, SchemaWriter } from '../../src/catalog.js'
import { quoteIdent } from '../../src/engines/mysql.js'
import { mysqlCatalog } from '../../src/engines/mysql-catalog.js'
import { mysqlSpelling } from '../../src/engines/mysql.js'
import { foreignKeyClause } from '../../src/engines/sql/ddl.js'
import { createIndexSql } from '../../src/engines/sql/index-ddl.js'
import { keyText } from '../../src/keys.js'
import type { ForeignKeyInfo, IndexInfo, Row, TableSchema } from '../../src/types.js'

type Query = (sql: string, params?: readonly unknown[]) => Promise<Row[]>

/**
 * The DDL a whole-database copy runs on a MySQL or MariaDB target after the data. A foreign key
 * is added with `foreign_key_checks` off, which InnoDB does in place instead of copying the table,
 * after ferry has looked for rows without a parent itself (one anti-join).
 */
export class MysqlSchemaWriter implements SchemaWriter {
  readonly inlineForeignKeys = false
  readonly parallelIndexes = 2

  constructor(
    readonly query: Query,
    readonly describe: (table: string) => Promise<TableSchema | undefined>,
    readonly mariadb: () => boolean,
  ) {}

  catalog(): Promise<Catalog> {
    return mysqlCatalog(this.query, this.describe, this.mariadb())
  }

  /** MySQL has no CREATE INDEX IF NOT EXISTS: the name is looked up first. */
  async createIndex(table: string, index: IndexInfo): Promise<void> {
    const found = await this.query(
      'SELECT 1 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND INDEX_NAME = ? LIMIT 1',
      [table, index.name],
    )
    if (found.length === 0) await this.query(createIndexSql(mysqlSpelling, table, index, true))
  }

  async addForeignKey(table: string, fk: ForeignKeyInfo): Promise<void> {
    if (await this.#has(table, fk.name)) return
    const [orphan] = await this.orphanRows(table, fk)
    if (orphan) {
      throw new Error(
        `row with ${fk.columns.map((c) => `\`${c}\``).join(', ')} = ${keyText(fk.columns.map((c) => orphan[c]))} has no parent in \`${fk.table}\``,
      )
    }
    await this.query('SET SESSION foreign_key_checks = 0')
    try {
      await this.query(`ALTER TABLE ${quoteIdent(table)} ADD ${foreignKeyClause(mysqlSpelling, fk)}`)
    } finally {
      await this.query('SET SESSION foreign_key_checks = 1')
    }
  }

  /** Child rows whose key (all of it not NULL, as MATCH SIMPLE reads it) finds no parent row. */
  orphanRows(table: string, fk: ForeignKeyInfo): Promise<Row[]> {
    const q = quoteIdent
    const on = fk.columns.map((c, i) => `p.${q(fk.referencedColumns[i]!)} = c.${q(c)}`).join(' AND ')
    const notNull = fk.columns.map((c) => `c.${q(c)} IS NOT NULL`).join(' AND ')
    return this.query(
      `SELECT ${fk.columns.map((c) => `c.${q(c)}`).join(', ')} FROM ${q(table)} c WHERE ${notNull} AND NOT EXISTS (SELECT 1 FROM ${q(fk.table)} p WHERE ${on}) LIMIT 1`,
    )
  }

  async dropForeignKey(table: string, name: string): Promise<void> {
    if (await this.#has(table, name)) await this.query(`ALTER TABLE ${quoteIdent(table)} DROP FOREIGN KEY ${quoteIdent(name)}`)
  }

  async resetIdentity(table: string, column: string): Promise<void> {
    const [row] = await this.query(`SELECT COALESCE(MAX(${quoteIdent(column)}), 0) + 1 AS next FROM ${quoteIdent(table)}`)
    await this.query(`ALTER TABLE ${quoteIdent(table)} AUTO_INCREMENT = ${BigInt(String(row!.next)).toString()}`)
  }

  async #has(table: string, constraint: string): Promise<boolean> {
    const rows = await this.query(
      'SELECT 1 FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = ? AND CONSTRAINT_NAME = ?',
      [table, constraint],
    )
    return rows.length > 0
  }
}
