import type { ConnectionOptions } from '../../src/endpoint.js'
import { classifyMssqlError, mssqlConfig, mssqlSpelling, quoteIdent } from '../../src/engines/mssql.js'
import { MssqlConnection, type MssqlTransaction } from '../../src/engines/mssql-connection.js'
import { markerOf, type MssqlColumnDetails, mssqlType } from '../../src/engines/mssql-schema.js'
import { createTableSql, truncateRefused } from '../../src/engines/sql/ddl.js'
import { countRows, lookupRows } from '../../src/engines/sql/queries.js'
import { type FailureKind, messageOf } from '../../src/errors.js'
import type { PreparePlan, Sink, WriteKind, WriteResult, WriteTarget } from '../../src/sink.js'
import type { ColumnInfo, KeyTuple, Row, TableSchema } from '../../src/types.js'
import { bulkColumns, describeMssqlError, encodedRows, insertSql, refused, stageName, stageSql, upsertSql } from './mssql-write.js'

export function createSink(connection: string | ConnectionOptions): MssqlSink {
  return new MssqlSink(new MssqlConnection(mssqlConfig(connection)))
}

/**
 * Writes SQL Server through the TDS bulk-load path, one transaction per batch: tedious'
 * `execBulkLoad` reads the rows from a generator as it sends them, each value encoded exactly for
 * its column's type (decimals from their digits, datetime2 to 100 ns). Upserts bulk-load into a
 * session temp table, then UPDATE and INSERT from it (see `upsertSql`). Values a column cannot hold
 * are found before the load and reported by row (`WriteResult`), the other rows written. A COMMIT
 * is as durable as the database makes it (full durability by default: the log is hardened before
 * COMMIT returns), so `durableCommits` needs nothing here.
 */
export class MssqlSink implements Sink {
  readonly engine = 'mssql'

  constructor(readonly connection: MssqlConnection) {}

  open(): Promise<void> {
    return this.connection.open()
  }

  describe(table: string): Promise<TableSchema | undefined> {
    return this.connection.describe(table)
  }

  /** DDL is transactional in SQL Server: a failed prepare leaves the table as it was. */
  async prepare(plan: PreparePlan): Promise<TableSchema> {
    const table = quoteIdent(plan.table)
    await this.connection
      .transaction(async (tx) => {
        const query = (sql: string, params: unknown[] = []) => this.connection.request(tx, params).query(sql)
        if (plan.mode === 'recreate') await query(`DROP TABLE IF EXISTS ${table}`)
        const [found] = (await query(`SELECT OBJECT_ID(QUOTENAME(SCHEMA_NAME()) + N'.' + QUOTENAME(@p1), N'U') AS id`, [plan.table])).recordset ?? []
        if (found?.id === null || found?.id === undefined) await this.#create(tx, plan)
        else if (plan.mode === 'truncate') await query(`TRUNCATE TABLE ${table}`)
      })
      .catch((err: unknown) => this.#truncateError(plan.table, err))
    return (await this.connection.describe(plan.table))!
  }

  async #create(tx: MssqlTransaction, plan: PreparePlan): Promise<void> {
    const keys = new Set(plan.schema.primaryKey)
    await this.connection.request(tx, []).query(createTableSql(mssqlSpelling, plan.table, plan.schema, mssqlType))
    for (const c of plan.schema.columns) {
      const marker = markerOf(c, keys.has(c.name))
      if (marker) await this.connection.request(tx, [marker, plan.table, c.name]).query(markerSql)
    }
  }

  /** TRUNCATE refused because foreign keys reference the table (4712): says which, and what to do. */
  async #truncateError(table: string, err: unknown): Promise<never> {
    if ((err as { number?: unknown }).number !== 4712) throw err
    const rows = await this.connection.query(referencingSql, [table])
    throw truncateRefused(table, rows.map((r) => String(r.name)), messageOf(err))
  }

  async write(target: WriteTarget, rows: readonly Row[], kind: WriteKind): Promise<WriteResult | void> {
    const details = await this.#details(target.table)
    const columns = bulkColumns(target, details)
    const rejected = refused(target, rows, columns)
    if (rejected.length === rows.length) return { rejected }
    const skip = new Set(rejected.map((r) => r.index))
    const identity = target.columns.some((c) => details?.get(c.name)?.identity)
    try {
      await this.connection.transaction(async (tx) => {
        const load = (table: string) => this.connection.bulkLoad(tx, table, columns, encodedRows(columns, rows, skip))
        if (kind === 'insert' && !identity) return load(quoteIdent(target.table))
        const stage = stageName(target)
        await this.connection.request(tx, []).query(stageSql(stage, target))
        await load(stage)
        await this.connection.request(tx, []).query(kind === 'upsert' ? upsertSql(target, stage, identity) : insertSql(target, stage, identity))
      })
    } catch (err) {
      throw describeMssqlError(err, classifyMssqlError(err))
    }
    return rejected.length ? { rejected } : undefined
  }

  async #details(table: string): Promise<ReadonlyMap<string, MssqlColumnDetails> | undefined> {
    if (!this.connection.details.has(table)) await this.connection.describeTable(table)
    return this.connection.details.get(table)
  }

  count(table: string, filter?: string): Promise<number> {
    return countRows(this.connection, table, filter)
  }

  /** Lookups stay under SQL Server's 2100 parameters a request. */
  lookup(target: WriteTarget, keys: readonly KeyTuple[]): Promise<Row[]> {
    return lookupRows(this.connection, target, keys, Math.max(1, Math.floor(2000 / target.key.length)))
  }

  /** An application lock of the session (sp_getapplock) on the schema's table; the session's end releases it. */
  async lock(table: string): Promise<boolean> {
    const [row] = await this.connection.query(lockSql, [table])
    return Number(row?.ok) >= 0
  }

  async execute(statement: string): Promise<void> {
    await this.connection.query(statement, [])
  }

  nativeType(column: ColumnInfo): string {
    return mssqlType(column, false)
  }

  classify(err: unknown): FailureKind {
    return classifyMssqlError(err)
  }

  close(): Promise<void> {
    return this.connection.close()
  }
}

const markerSql = `DECLARE @s sysname = SCHEMA_NAME();
EXEC sys.sp_addextendedproperty @name = N'ferry', @value = @p1, @level0type = N'SCHEMA', @level0name = @s, @level1type = N'TABLE', @level1name = @p2, @level2type = N'COLUMN', @level2name = @p3`

const referencingSql = `SELECT DISTINCT OBJECT_NAME(f.parent_object_id) AS name FROM sys.foreign_keys f
WHERE f.referenced_object_id = OBJECT_ID(QUOTENAME(SCHEMA_NAME()) + N'.' + QUOTENAME(@p1))`

const lockSql = `DECLARE @r int, @resource nvarchar(255) = LEFT(N'ferry:' + DB_NAME() + N'.' + SCHEMA_NAME() + N'.' + @p1, 255);
EXEC @r = sys.sp_getapplock @Resource = @resource, @LockMode = 'Exclusive', @LockOwner = 'Session', @LockTimeout = 0;
SELECT @r AS ok`
