import { existsSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import {
  classifySqliteError,
  createTableSql,
  declaredType,
  describeTable,
  encodeValue,
  existingKeys,
  maxKey,
  quoteIdent,
} from '../src/dialects/sqlite.js'
import type { FailureKind } from '../src/errors.js'
import { faultPoint } from '../src/faults.js'
import type { PreparePlan, Sink, WriteKind } from '../src/sink.js'
import type { ColumnInfo, Key, KeyRange, Row, TableSchema } from '../src/types.js'

/**
 * Writes a SQLite file: each batch is one transaction of prepared inserts (or upserts on the
 * primary key). WAL with synchronous=NORMAL survives a killed process; only a power cut can lose
 * the last commits, and a resume replays those.
 */
export class SqliteSink implements Sink {
  readonly dialect = 'sqlite'
  #db?: Database.Database
  readonly #filename: string
  readonly #statements = new Map<string, Database.Statement>()

  constructor(filename: string) {
    this.#filename = filename
  }

  #writable = false

  /** Opens an existing file; a missing one is created by the first write, so dry runs leave no trace. */
  async open(): Promise<void> {
    if (this.#filename === ':memory:' || existsSync(this.#filename)) this.#db = this.#connect()
  }

  #connect(): Database.Database {
    const db = new Database(this.#filename)
    db.pragma('busy_timeout = 10000')
    return db
  }

  /** The connection for writing: creates the file if needed, and switches it to WAL once. */
  get #conn(): Database.Database {
    if (!this.#db) {
      mkdirSync(dirname(this.#filename), { recursive: true })
      this.#db = this.#connect()
    }
    if (!this.#writable) {
      this.#db.pragma('journal_mode = WAL')
      this.#db.pragma('synchronous = NORMAL')
      this.#writable = true
    }
    return this.#db
  }

  async describe(table: string): Promise<TableSchema | undefined> {
    return this.#db && describeTable(this.#db, table)
  }

  async prepare(plan: PreparePlan): Promise<TableSchema> {
    const db = this.#conn
    const table = quoteIdent(plan.table)
    db.transaction(() => {
      if (plan.mode === 'recreate') db.exec(`DROP TABLE IF EXISTS ${table}`)
      if (!describeTable(db, plan.table)) db.exec(createTableSql(plan.table, plan.schema))
      else if (plan.mode === 'truncate') db.exec(`DELETE FROM ${table}`)
    })()
    this.#statements.clear()
    return describeTable(db, plan.table)!
  }

  async write(target: TableSchema, rows: readonly Row[], kind: WriteKind): Promise<void> {
    const stmt = this.#statement(target, kind)
    const columns = target.columns
    const half = rows.length >> 1
    const insertAll = this.#conn.transaction((batch: readonly Row[]) => {
      for (let i = 0; i < batch.length; i++) {
        if (i === half) faultPoint('sink-write')
        stmt.run(columns.map((c) => encodeValue(batch[i]![c.name], c)))
      }
    })
    insertAll(rows)
  }

  #statement(target: TableSchema, kind: WriteKind): Database.Statement {
    const id = `${kind}\0${target.table}`
    let stmt = this.#statements.get(id)
    if (!stmt) {
      stmt = this.#conn.prepare(insertSql(target, kind))
      this.#statements.set(id, stmt)
    }
    return stmt
  }

  async maxKey(table: string, key: string, range: KeyRange): Promise<Key | undefined> {
    return this.#db && maxKey(this.#db, table, key, range)
  }

  async existingKeys(table: string, key: string, keys: readonly Key[]): Promise<Set<string>> {
    return this.#db ? existingKeys(this.#db, table, key, keys) : new Set()
  }

  async execute(statement: string): Promise<void> {
    this.#conn.exec(statement)
  }

  async dropSecondaryIndexes(table: string): Promise<string[]> {
    const db = this.#conn
    // Indexes behind PRIMARY KEY and UNIQUE constraints have no SQL and stay: they are the key.
    const indexes = db
      .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL")
      .all(table) as { name: string; sql: string }[]
    db.transaction(() => {
      for (const index of indexes) db.exec(`DROP INDEX ${quoteIdent(index.name)}`)
    })()
    return indexes.map((i) => i.sql)
  }

  nativeType(column: ColumnInfo): string {
    return declaredType(column)
  }

  classify(err: unknown): FailureKind {
    return classifySqliteError(err)
  }

  async close(): Promise<void> {
    this.#statements.clear()
    this.#db?.close()
    this.#db = undefined
    this.#writable = false
  }
}

function insertSql(target: TableSchema, kind: WriteKind): string {
  const names = target.columns.map((c) => quoteIdent(c.name))
  const insert = `INSERT INTO ${quoteIdent(target.table)} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`
  if (kind === 'insert') return insert
  const keys = new Set(target.primaryKey)
  const updates = target.columns
    .filter((c) => !keys.has(c.name))
    .map((c) => `${quoteIdent(c.name)} = excluded.${quoteIdent(c.name)}`)
  const conflict = `ON CONFLICT (${target.primaryKey.map(quoteIdent).join(', ')})`
  return `${insert} ${conflict} ${updates.length ? `DO UPDATE SET ${updates.join(', ')}` : 'DO NOTHING'}`
}
