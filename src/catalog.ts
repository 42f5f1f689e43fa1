import type { ForeignKeyInfo, IndexInfo, TableSchema } from './types.js'

/** A database object a whole-database copy does not carry, and why: listed in the plan and the report. */
export interface SkippedObject {
  /** `view`, `trigger`, `function`, `index`, `default`, `check`, `column` … */
  readonly kind: string
  /** `film_list`, or `film.idx_title` for a part of a table. */
  readonly name: string
  readonly reason: string
}

/** The base tables of a database with their full schema (keys, indexes, foreign keys, checks, defaults). */
export interface Catalog {
  readonly engine: 'sqlite' | 'postgres' | 'mysql'
  readonly tables: readonly TableSchema[]
  /** Views, triggers, routines and the like: never copied, always reported. */
  readonly skipped: readonly SkippedObject[]
}

/**
 * What a whole-database copy asks of a target beyond writing rows: its catalog, and the DDL run
 * after the data. Each statement is idempotent or checked first, so that a resumed run can repeat it.
 */
export interface SchemaWriter {
  /** The target's tables with their schema; an empty catalog when the database has none yet. */
  catalog(): Promise<Catalog>
  /** Builds the index unless one of that name is on the table. */
  createIndex(table: string, index: IndexInfo): Promise<void>
  /** Adds the foreign key (its rows checked first), unless the table has one of that name. */
  addForeignKey(table: string, fk: ForeignKeyInfo): Promise<void>
  dropForeignKey(table: string, name: string): Promise<void>
  /** Sets the table's identity sequence past the largest value of the column. */
  resetIdentity(table: string, column: string): Promise<void>
  /**
   * Rows whose foreign key finds no parent, named (SQLite, whose foreign keys are declared with the
   * table and not enforced during the load); empty when there are none.
   */
  orphans?(table: string): Promise<string[]>
  /** Whether foreign keys are declared in CREATE TABLE (SQLite cannot add them later). */
  readonly inlineForeignKeys: boolean
  /** How many index builds the target runs at once (1 for SQLite: one writer). */
  readonly parallelIndexes: number
}

/** A sink that can take a whole database. */
export interface SchemaTarget {
  readonly schema: SchemaWriter
}
