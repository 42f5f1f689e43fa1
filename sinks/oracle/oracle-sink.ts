import type { ConnectionOptions } from '../../src/endpoint.js'
import { classifyOracleError, isConnectionError, oracleConfig, oracleSpelling, quoteIdent } from '../../src/engines/oracle.js'
import { OracleConnection } from '../../src/engines/oracle-connection.js'
import { oracleType } from '../../src/engines/oracle-schema.js'
import { createTableSql, truncateRefused } from '../../src/engines/sql/ddl.js'
import { countRows, lookupRows } from '../../src/engines/sql/queries.js'
import { type FailureKind, messageOf } from '../../src/errors.js'
import type { PreparePlan, Sink, WriteKind, WriteResult, WriteTarget } from '../../src/sink.js'
import type { ColumnInfo, KeyTuple, Row, TableSchema } from '../../src/types.js'
import { batchBinds, columnBinds, describeOracleError, insertSql, mergeSql, refused } from './oracle-write.js'

export function createSink(connection: string | ConnectionOptions): OracleSink {
  return new OracleSink(new OracleConnection(oracleConfig(connection)))
}

/**
 * Writes Oracle with one `executeMany` per batch (INSERT, or MERGE for upserts) and `batchErrors`:
 * Oracle reports the rows it refuses by their offset and keeps the others in the transaction, so
 * the batch is committed without them and they are reported by row (`WriteResult`), with no split
 * of the batch to find them. Values Oracle would change (an empty string into NULL, extra digits
 * into NUMBER's rounding) are refused before the batch is sent. A COMMIT is durable once it
 * returns (the redo is written first, unless COMMIT_WAIT is set otherwise), so `durableCommits`
 * needs nothing here.
 */
export class OracleSink implements Sink {
  readonly engine = 'oracle'

  constructor(readonly connection: OracleConnection) {}

  open(): Promise<void> {
    return this.connection.open()
  }

  describe(table: string): Promise<TableSchema | undefined> {
    return this.connection.describe(table)
  }

  /** Oracle commits each DDL statement on its own: a failed prepare may leave the table dropped, which the next fresh run creates. */
  async prepare(plan: PreparePlan): Promise<TableSchema> {
    const table = quoteIdent(plan.table)
    const exists = (await this.connection.describe(plan.table)) !== undefined
    if (exists && plan.mode === 'recreate') await this.#run(`DROP TABLE ${table} PURGE`)
    if (!exists || plan.mode === 'recreate') await this.#create(plan)
    else if (plan.mode === 'truncate') await this.#run(`TRUNCATE TABLE ${table}`).catch((err: unknown) => this.#truncateError(plan.table, err))
    return (await this.connection.describe(plan.table))!
  }

  async #create(plan: PreparePlan): Promise<void> {
    const keys = new Set(plan.schema.primaryKey)
    const type = (c: ColumnInfo, key: boolean) => oracleType(c, key, this.connection.unicode).type
    await this.#run(createTableSql(oracleSpelling, plan.table, plan.schema, type))
    for (const c of plan.schema.columns) {
      const { marker } = oracleType(c, keys.has(c.name), this.connection.unicode)
      if (marker) await this.#run(`COMMENT ON COLUMN ${quoteIdent(plan.table)}.${quoteIdent(c.name)} IS 'ferry:${marker}'`)
    }
  }

  async #run(statement: string): Promise<void> {
    await (await this.connection.session()).execute(statement, [], { autoCommit: true })
  }

  /** TRUNCATE refused because enabled foreign keys reference the table (ORA-02266): says which, and what to do. */
  async #truncateError(table: string, err: unknown): Promise<never> {
    if ((err as { errorNum?: unknown }).errorNum !== 2266) throw err
    const rows = await this.connection.query(referencingSql, [table])
    throw truncateRefused(table, rows.map((r) => String(r.name)), messageOf(err).split('\n')[0]!)
  }

  async write(target: WriteTarget, rows: readonly Row[], kind: WriteKind): Promise<WriteResult | void> {
    const binds = columnBinds(target, this.connection.codePage)
    const rejected: { index: number; error: unknown }[] = refused(target, rows, binds)
    if (rejected.length === rows.length) return { rejected }
    const batch = batchBinds(binds, rows, new Set(rejected.map((r) => r.index)))
    const session = await this.connection.session()
    const driver = this.connection.driver
    try {
      const result = await session.executeMany(kind === 'upsert' ? mergeSql(target, binds) : insertSql(target, binds), batch.values, {
        bindDefs: batch.defs.map((d) => ({ type: driver[d.type], ...(d.maxSize !== undefined && { maxSize: d.maxSize }) })),
        batchErrors: true,
        autoCommit: false,
      })
      const errors = result.batchErrors ?? []
      // A row's error that is not the row's fault (a deadlock) fails the batch, to be retried whole.
      const other = errors.find((e) => classifyOracleError(e) !== 'rejected')
      if (other) throw other
      await session.commit()
      for (const e of errors) rejected.push({ index: batch.sent[e.offset]!, error: describeOracleError(e, 'rejected') })
    } catch (err) {
      if (isConnectionError(err)) this.connection.markBroken()
      else await session.rollback().catch(() => this.connection.markBroken())
      throw describeOracleError(err, classifyOracleError(err))
    }
    return rejected.length ? { rejected: rejected.sort((a, b) => a.index - b.index) } : undefined
  }

  count(table: string, filter?: string): Promise<number> {
    return countRows(this.connection, table, filter)
  }

  lookup(target: WriteTarget, keys: readonly KeyTuple[]): Promise<Row[]> {
    return lookupRows(this.connection, target, keys)
  }

  async execute(statement: string): Promise<void> {
    await this.#run(statement)
  }

  nativeType(column: ColumnInfo): string {
    return oracleType(column, false, this.connection.unicode).type
  }

  /**
   * Oracle keeps the case of quoted names, and ferry quotes every name: a table it creates as
   * `users` must be written `"users"` in SQL, unlike USERS. Says so when a name is not plain upper case.
   */
  nameNote(table: string, columns: readonly string[]): string | undefined {
    const quoted = [table, ...columns].filter((n) => !/^[A-Z][A-Z0-9_$#]*$/.test(n))
    if (quoted.length === 0) return undefined
    const list = quoted.slice(0, 8).map((n) => `"${n}"`).join(', ') + (quoted.length > 8 ? ', …' : '')
    return `Oracle keeps the case of quoted names: ${list} are created as written, so SQL must quote them (${quoteIdent(table)}, not ${table.toUpperCase()}); name them in upper case in the pipeline for names plain SQL can use`
  }

  classify(err: unknown): FailureKind {
    return classifyOracleError(err)
  }

  close(): Promise<void> {
    return this.connection.close()
  }
}

const referencingSql = `SELECT DISTINCT c.table_name AS "name" FROM all_constraints c
JOIN all_constraints r ON r.owner = c.r_owner AND r.constraint_name = c.r_constraint_name
WHERE c.constraint_type = 'R' AND c.status = 'ENABLED' AND r.owner = SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA') AND r.table_name = :1`
