import { existsSync } from 'node:fs'
import type Database from 'better-sqlite3'
import type { ConnectionOptions } from '../src/endpoint.js'
import {
  classifySqliteError,
  declaredType,
  describeTable,
  encodeValue,
  quoteIdent,
  SqliteConnection,
  sqliteFilename,
  sqliteSpelling,
} from '../src/engines/sqlite.js'
import { createTableSql } from '../src/engines/sql/ddl.js'
import { onConflictUpdate } from '../src/engines/sql/upsert.js'
import { countRows, lookupRows } from '../src/engines/sql/queries.js'
import type { FailureKind } from '../src/errors.js'
import { faultPoint } from '../src/faults.js'
import type { IndexDefinition, PreparePlan, Sink, SinkOptions, WriteKind, WriteTarget } from '../src/sink.js'
import type { ColumnInfo, KeyTuple, Row, TableSchema } from '../src/types.js'
import { SqliteSchemaWriter, sqliteColumnType, sqliteExtras } from './sqlite-schema.js'

export function createSink(connection: string | ConnectionOptions, options: SinkOptions = {}): SqliteSink {
  return new SqliteSink(sqliteFilename(connection), options)
}

/**
 * Writes a SQLite file: each batch is one transaction of prepared inserts (or upserts on the
 * key), in WAL mode. With `durableCommits` (a run with checkpoints) it runs with synchronous=FULL,
 * which fsyncs the WAL at each commit, so a checkpoint never covers a commit a power cut can take
 * back (https://www.sqlite.org/pragma.html#pragma_synchronous). Without it, synchronous=NORMAL
 * survives a killed process but a power cut can lose the last commits: nothing records them then.
 */
export class SqliteSink implements Sink {
  readonly engine = 'sqlite'
  readonly #connection: SqliteConnection
  readonly #statements = new Map<string, Database.Statement>()
  readonly #durable: boolean
  #writable = false
  /** Whole-database copies: the DDL run after the data. */
  readonly schema: SqliteSchemaWriter

  constructor(filename: string, options: SinkOptions = {}) {
    const readOnly = options.readOnly === true && filename !== ':memory:'
    this.#connection = new SqliteConnection(filename, { writable: !readOnly, foreignKeys: options.foreignKeyChecks ?? true })
    this.#durable = options.durableCommits ?? false
    this.schema = new SqliteSchemaWriter(() => this.#db, () => this.#connection.opened)
  }

  /**
   * Opens an existing file; a missing one is created by the first write, so dry runs leave no
   * trace. A read-only sink opens the file read-only, and leaves a missing one unopened.
   */
  async open(): Promise<void> {
    if (!this.#connection.options.writable && !existsSync(this.#connection.filename)) return
    await this.#connection.open()
  }

  /** The connection for writing: creates the file if needed, and switches it to WAL once. */
  get #db(): Database.Database {
    const db = this.#connection.db
    if (!this.#writable) {
      db.pragma('journal_mode = WAL')
      db.pragma(`synchronous = ${this.#durable ? 'FULL' : 'NORMAL'}`)
      this.#writable = true
    }
    return db
  }

  describe(table: string): Promise<TableSchema | undefined> {
    return this.#connection.describe(table)
  }

  async prepare(plan: PreparePlan): Promise<TableSchema> {
    const db = this.#db
    const table = quoteIdent(plan.table)
    db.transaction(() => {
      if (plan.mode === 'recreate') db.exec(`DROP TABLE IF EXISTS ${table}`)
      if (!describeTable(db, plan.table)) {
        db.exec(createTableSql(sqliteSpelling, plan.table, plan.schema, (c) => sqliteColumnType(c, plan.schema), '', sqliteExtras))
      }
      else if (plan.mode === 'truncate') db.exec(`DELETE FROM ${table}`)
    })()
    this.#statements.clear()
    return describeTable(db, plan.table)!
  }

  /**
   * Rows go in groups of `perStatement` through one multi-row INSERT — fewer calls into SQLite, a
   * fifth less CPU for the whole run of the users demo than one statement per row — the rest one by one.
   */
  async write(target: WriteTarget, rows: readonly Row[], kind: WriteKind): Promise<void> {
    const columns = target.columns
    const perStatement = Math.max(1, Math.min(64, Math.floor(32_766 / columns.length)))
    const many = this.#statement(target, kind, perStatement)
    const one = this.#statement(target, kind, 1)
    const params: unknown[] = new Array(perStatement * columns.length)
    const half = rows.length >> 1
    this.#db.transaction(() => {
      let i = 0
      for (; i + perStatement <= rows.length; i += perStatement) {
        if (i <= half && half < i + perStatement) faultPoint('sink-write')
        let p = 0
        for (let r = i; r < i + perStatement; r++) for (const c of columns) params[p++] = encodeValue(rows[r]![c.name], c)
        many.run(params)
      }
      for (; i < rows.length; i++) {
        if (i === half) faultPoint('sink-write')
        one.run(columns.map((c) => encodeValue(rows[i]![c.name], c)))
      }
    })()
  }

  #statement(target: WriteTarget, kind: WriteKind, rows: number): Database.Statement {
    const id = [kind, rows, target.table, ...target.key, '', ...target.columns.map((c) => c.name)].join('\0')
    let stmt = this.#statements.get(id)
    if (!stmt) {
      stmt = this.#db.prepare(insertSql(target, kind, rows))
      this.#statements.set(id, stmt)
    }
    return stmt
  }

  async count(table: string, filter?: string): Promise<number> {
    return this.#connection.opened ? countRows(this.#connection, table, filter) : 0
  }

  async lookup(target: WriteTarget, keys: readonly KeyTuple[]): Promise<Row[]> {
    if (!this.#connection.opened) return []
    return lookupRows(this.#connection, target, keys)
  }

  async execute(statement: string): Promise<void> {
    this.#db.exec(statement)
  }

  /**
   * The non-unique indexes made by CREATE INDEX (origin `c`). Unique ones stay, as those behind
   * PRIMARY KEY and UNIQUE constraints: they enforce the data, and an upsert's ON CONFLICT may
   * stand on one.
   */
  async secondaryIndexes(table: string): Promise<IndexDefinition[]> {
    if (!this.#connection.opened) return []
    const rows = this.#connection.db
      .prepare(
        `SELECT l.name, m.sql FROM pragma_index_list(?) AS l JOIN sqlite_master AS m ON m.type = 'index' AND m.name = l.name
         WHERE l.origin = 'c' AND NOT l."unique" ORDER BY l.name`,
      )
      .all(table) as { name: string; sql: string }[]
    return rows.map((r) => ({ name: r.name, create: r.sql }))
  }

  async dropIndexes(_table: string, indexes: readonly IndexDefinition[]): Promise<IndexDefinition[]> {
    const db = this.#db
    db.transaction(() => {
      for (const index of indexes) db.exec(`DROP INDEX IF EXISTS ${quoteIdent(index.name)}`)
    })()
    return [...indexes]
  }

  /**
   * Index names are unique in the whole file, so a name already there means built (or taken, which
   * the caller's check of the table's indexes then finds). FULL for this commit even without
   * `durableCommits`: the caller forgets the definition once it returns.
   */
  async createIndex(index: IndexDefinition): Promise<void> {
    const db = this.#db
    if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?").get(index.name)) return
    const level = db.pragma('synchronous', { simple: true }) as number
    db.pragma('synchronous = FULL')
    try {
      db.exec(index.create)
    } finally {
      db.pragma(`synchronous = ${level}`)
    }
  }

  nativeType(column: ColumnInfo): string {
    return declaredType(column)
  }

  classify(err: unknown): FailureKind {
    return classifySqliteError(err)
  }

  async close(): Promise<void> {
    this.#statements.clear()
    await this.#connection.close()
    this.#writable = false
  }
}

function insertSql(target: WriteTarget, kind: WriteKind, rows: number): string {
  const names = target.columns.map((c) => quoteIdent(c.name))
  const tuple = `(${names.map(() => '?').join(', ')})`
  const insert = `INSERT INTO ${quoteIdent(target.table)} (${names.join(', ')}) VALUES ${Array(rows).fill(tuple).join(', ')}`
  return kind === 'insert' ? insert : `${insert} ${onConflictUpdate(sqliteSpelling, target.columns, target.key)}`
}
