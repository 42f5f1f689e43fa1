import type mysql from 'mysql2/promise'
import type { ConnectionOptions } from '../../src/endpoint.js'
import { classifyMysqlError, isConnectionError, type MysqlSession, type MysqlSessionOptions, mysqlOptions, quoteIdent } from '../../src/engines/mysql.js'
import { MysqlConnection } from '../../src/engines/mysql-connection.js'
import { createTableSql, describeTable, mysqlType } from '../../src/engines/mysql-schema.js'
import { truncateRefused } from '../../src/engines/sql/ddl.js'
import { countRows, lookupRows } from '../../src/engines/sql/queries.js'
import { ConfigError, type FailureKind, SinkWriteError } from '../../src/errors.js'
import { redactUrl } from '../../src/redact.js'
import type { IndexDefinition, PreparePlan, Sink, SinkOptions, WriteKind, WriteTarget } from '../../src/sink.js'
import type { ColumnInfo, KeyTuple, Row, TableSchema } from '../../src/types.js'
import { checkRows } from '../../src/values.js'
import { insertStatements, loadData } from './mysql-bulk.js'
import { MysqlSchemaWriter } from './mysql-schema-writer.js'

export function createSink(connection: string | ConnectionOptions, options: SinkOptions = {}): MysqlSink {
  return new MysqlSink(mysqlOptions(without(connection)), bulkMethod(connection), { readOnly: options.readOnly ?? false })
}

/**
 * How the sink writes batches (see `MysqlBulkMethod`): `?bulk=insert` in the URL or
 * `bulk: 'insert'` in the options picks multi-row INSERT; the default is LOAD DATA LOCAL INFILE.
 */
function bulkMethod(connection: string | ConnectionOptions): MysqlBulkMethod {
  const value = typeof connection === 'string' ? urlOf(connection).searchParams.get('bulk') : connection.bulk
  if (value === undefined || value === null) return 'load'
  if (value === 'insert' || value === 'load') return value
  throw new ConfigError(`mysql option \`bulk\` must be \`insert\` or \`load\` (got ${JSON.stringify(value)})`)
}

function urlOf(connection: string): URL {
  try {
    return new URL(connection)
  } catch {
    throw new ConfigError(`\`${redactUrl(connection)}\` is not a valid mysql URL`)
  }
}

/** The connection without ferry's own `bulk` setting, which mysql2 would not know. */
function without(connection: string | ConnectionOptions): string | ConnectionOptions {
  if (typeof connection !== 'string') {
    const { bulk: _, ...rest } = connection
    return rest as ConnectionOptions
  }
  const url = urlOf(connection)
  url.searchParams.delete('bulk')
  return url.toString()
}

/**
 * How batches reach the server. `load` (the default) streams plain inserts through `LOAD DATA
 * LOCAL INFILE` and falls back to `insert` when the server refuses local files; `insert` sends
 * multi-row `INSERT … VALUES` statements. Upserts are multi-row `INSERT … ON DUPLICATE KEY UPDATE`
 * either way. Measured on 200k rows of a 9-column table, batches of 1000, MariaDB 10.11 on 2 cores:
 * LOAD DATA 49-62k rows/s against 31-45k for INSERT; for upserts INSERT … ON DUPLICATE KEY UPDATE
 * made 26-36k rows/s, LOAD DATA into a temporary table then INSERT … SELECT only 16-17k.
 */
export type MysqlBulkMethod = 'insert' | 'load'

/**
 * Writes MySQL or MariaDB, one transaction per batch, in a strict session (see
 * src/engines/mysql.ts). Any warning a write leaves (a truncation, a rounding, a duplicate that
 * LOAD DATA skipped) rolls the batch back as a rejected write, so nothing is ever cut silently.
 * A COMMIT is as durable as the server's `innodb_flush_log_at_trx_commit` makes it (1 by default:
 * the redo log is flushed at each commit), so `durableCommits` needs nothing here; ferry leaves the
 * setting to the server.
 */
export class MysqlSink implements Sink {
  readonly engine = 'mysql'
  /** Geometry columns keep their kind and SRID (written in MySQL's own storage form). */
  readonly holdsGeometry = true
  readonly #connection: MysqlConnection
  #method: MysqlBulkMethod
  /** Whole-database copies: the DDL run after the data. */
  readonly schema: MysqlSchemaWriter

  constructor(options: mysql.ConnectionOptions, method: MysqlBulkMethod = 'load', session: MysqlSessionOptions = {}) {
    this.#connection = new MysqlConnection(options, session)
    this.#method = method
    this.schema = new MysqlSchemaWriter(
      (sql, params = []) => this.#connection.query(sql, params),
      (table) => this.#connection.describe(table),
      () => this.#connection.mariadb ?? true,
    )
  }

  open(): Promise<void> {
    return this.#connection.open()
  }

  describe(table: string): Promise<TableSchema | undefined> {
    return this.#connection.describe(table)
  }

  /** DDL commits implicitly in MySQL, so there is no transaction to wrap it in. */
  async prepare(plan: PreparePlan): Promise<TableSchema> {
    const s = await this.#connection.session()
    const table = quoteIdent(plan.table)
    if (plan.mode === 'recreate') await s.conn.query(`DROP TABLE IF EXISTS ${table}`)
    if (!(await describeTable(s.conn, s.mariadb, plan.table))) await s.conn.query(createTableSql(plan.table, plan.schema, s.mariadb))
    else if (plan.mode === 'truncate') await s.conn.query(`TRUNCATE TABLE ${table}`).catch((err: unknown) => truncateError(s.conn, plan.table, err))
    return (await describeTable(s.conn, s.mariadb, plan.table))!
  }

  async write(target: WriteTarget, rows: readonly Row[], kind: WriteKind): Promise<void> {
    // DECIMAL and DATETIME(6) round extra digits with only a note: refuse such values first.
    checkRows(target, rows)
    const s = await this.#connection.session()
    try {
      await s.conn.query('START TRANSACTION')
      if (this.#method === 'load') await this.#load(s, target, rows, kind)
      else await this.#insert(s, target, rows, kind)
      await s.conn.query('COMMIT')
    } catch (err) {
      if (isConnectionError(err)) this.#connection.markBroken()
      else await s.conn.query('ROLLBACK').catch(() => this.#connection.markBroken())
      if (this.#method === 'load' && localInfileRefused(err)) {
        this.#method = 'insert'
        return this.write(target, rows, kind)
      }
      throw describeError(err)
    }
  }

  async #insert(s: MysqlSession, target: WriteTarget, rows: readonly Row[], kind: WriteKind): Promise<void> {
    // Sizes are counted in UTF-16 units, each at most 3 bytes of UTF-8: a third of the packet limit.
    const maxBytes = Math.max(64 * 1024, Math.min(Math.floor(s.maxPacket / 3) - 4096, 8 * 1024 * 1024))
    for (const sql of insertStatements(target.table, target.columns, target.key, rows, kind === 'upsert', maxBytes)) {
      await checked(s.conn, sql)
    }
  }

  /** Plain inserts stream through LOAD DATA; upserts need ON DUPLICATE KEY UPDATE (see the type). */
  async #load(s: MysqlSession, target: WriteTarget, rows: readonly Row[], kind: WriteKind): Promise<void> {
    if (kind === 'upsert') return this.#insert(s, target, rows, kind)
    await checked(s.conn, loadData(target.table, target.columns, rows))
  }

  count(table: string, filter?: string): Promise<number> {
    return countRows(this.#connection, table, filter)
  }

  lookup(target: WriteTarget, keys: readonly KeyTuple[]): Promise<Row[]> {
    return lookupRows(this.#connection, target, keys)
  }

  /** A named lock of the session (GET_LOCK) on the database's table; the session's end releases it. */
  async lock(table: string): Promise<boolean> {
    const { conn } = await this.#connection.session()
    // Lock names stop at 64 characters: a digest keeps long database and table names apart.
    const [rows] = await conn.query<mysql.RowDataPacket[]>("SELECT GET_LOCK(CONCAT('ferry:', MD5(CONCAT(DATABASE(), '.', ?))), 0) AS ok", [table])
    return Number(rows[0]!.ok) === 1
  }

  async execute(statement: string): Promise<void> {
    await (await this.#connection.session()).conn.query(statement)
  }

  /** The non-unique plain-column indexes (unique ones enforce the data), with the statement that creates each. */
  async secondaryIndexes(table: string): Promise<IndexDefinition[]> {
    const { conn } = await this.#connection.session()
    return [...(await secondaryIndexes(conn, table))].map(([name, create]) => ({ name, create }))
  }

  /** An index a foreign key needs stays (and is not returned). */
  async dropIndexes(table: string, indexes: readonly IndexDefinition[]): Promise<IndexDefinition[]> {
    const { conn } = await this.#connection.session()
    const dropped: IndexDefinition[] = []
    for (const index of indexes) {
      try {
        await conn.query(`DROP INDEX ${quoteIdent(index.name)} ON ${quoteIdent(table)}`)
        dropped.push(index)
      } catch (err) {
        // 1553: needed in a foreign key constraint.
        if ((err as { errno?: unknown }).errno !== 1553) throw err
      }
    }
    return dropped
  }

  /** MySQL has no CREATE INDEX IF NOT EXISTS (MariaDB does, but not MySQL 8): a duplicate name is error 1061. */
  async createIndex(index: IndexDefinition): Promise<void> {
    try {
      await (await this.#connection.session()).conn.query(index.create)
    } catch (err) {
      if ((err as { errno?: unknown }).errno !== 1061) throw err
    }
  }

  nativeType(column: ColumnInfo): string {
    return mysqlType(column, false, this.#connection.mariadb)
  }

  classify(err: unknown): FailureKind {
    return classifyMysqlError(err)
  }

  close(): Promise<void> {
    return this.#connection.close()
  }
}

// 1287: VALUES() in ON DUPLICATE KEY UPDATE is deprecated in MySQL 8; harmless.
const harmlessWarnings = new Set([1287])

/** Runs a statement and turns any warning it leaves into an error carrying the warning's code. */
async function checked(conn: mysql.Connection, statement: string | mysql.QueryOptions): Promise<void> {
  const [result] = await conn.query<mysql.ResultSetHeader>(statement as mysql.QueryOptions)
  if (!result.warningStatus) return
  const [warnings] = await conn.query<mysql.RowDataPacket[]>('SHOW WARNINGS LIMIT 5')
  const first = warnings.find((w) => !harmlessWarnings.has(Number(w.Code)))
  if (!first) return
  throw new SinkWriteError(`${String(first.Message)} (warning ${String(first.Code)})`, 'rejected')
}

const indexColumnsSql = `SELECT INDEX_NAME AS name, COLUMN_NAME AS col, SUB_PART AS part, COLLATION AS dir, INDEX_TYPE AS kind
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND NON_UNIQUE = 1
ORDER BY INDEX_NAME, SEQ_IN_INDEX`

/** Non-unique plain-column indexes, by name, with the statement that creates each. */
async function secondaryIndexes(conn: mysql.Connection, table: string): Promise<Map<string, string>> {
  const [rows] = await conn.query<mysql.RowDataPacket[]>(indexColumnsSql, [table])
  const parts = new Map<string, { kind: string; columns: string[] }>()
  const skipped = new Set<string>()
  for (const r of rows) {
    // An expression index has no column name; it is left in place.
    if (r.col === null) skipped.add(String(r.name))
    const index = parts.get(String(r.name)) ?? { kind: String(r.kind), columns: [] }
    index.columns.push(`${quoteIdent(String(r.col))}${r.part ? `(${Number(r.part)})` : ''}${r.dir === 'D' ? ' DESC' : ''}`)
    parts.set(String(r.name), index)
  }
  const kinds: Record<string, string> = { FULLTEXT: 'FULLTEXT ', SPATIAL: 'SPATIAL ' }
  return new Map(
    [...parts]
      .filter(([name]) => !skipped.has(name))
      .map(([name, { kind, columns }]) => [
        name,
        `CREATE ${kinds[kind] ?? ''}INDEX ${quoteIdent(name)} ON ${quoteIdent(table)} (${columns.join(', ')})`,
      ]),
  )
}

/** TRUNCATE refused because foreign keys reference the table (1701): says which, and what to do. */
async function truncateError(conn: mysql.Connection, table: string, err: unknown): Promise<never> {
  if ((err as { errno?: unknown }).errno !== 1701) throw err
  const [rows] = await conn.query<mysql.RowDataPacket[]>(
    'SELECT DISTINCT TABLE_NAME AS name FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME = ?',
    [table],
  )
  throw truncateRefused(table, rows.map((r) => String(r.name)), (err as Error).message)
}

function localInfileRefused(err: unknown): boolean {
  const errno = (err as { errno?: unknown }).errno
  return errno === 1148 || errno === 3948 || errno === 2068
}

function describeError(err: unknown): unknown {
  if (err instanceof SinkWriteError || !(err instanceof Error)) return err
  return new SinkWriteError(err.message, classifyMysqlError(err), { cause: err })
}
