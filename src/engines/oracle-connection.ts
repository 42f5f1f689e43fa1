import { ConnectionError, messageOf } from '../errors.js'
import type { ColumnInfo, Row, TableSchema } from '../types.js'
import { loadDriver } from './load-driver.js'
import { isConnectionError, type OracleConfig, oracleSpelling } from './oracle.js'
import { describeTable, rowDecoder, selectExpression } from './oracle-schema.js'
import { dateFormat, type OracleBindType, paramValue, timestampFormat, timestampTzFormat } from './oracle-values.js'
import type { SqlConnection } from './sql/sql-source.js'

/** A database type of oracledb (`oracledb.DB_TYPE_NUMBER`); compared by identity. */
export type DbType = object

/** The parts of the `oracledb` package ferry uses (typed here: the package is optional). */
export interface OracleDriver extends Readonly<Record<OracleBindType | 'DB_TYPE_NUMBER', DbType>> {
  getConnection(config: OracleConfig): Promise<OracleSession>
  readonly OUT_FORMAT_OBJECT: number
  readonly STRING: DbType
  readonly BUFFER: DbType
}

export interface OracleResult {
  readonly rows?: Row[]
  readonly rowsAffected?: number
  /** `executeMany` with `batchErrors`: the rows' errors, each with the row's `offset` in the batch. */
  readonly batchErrors?: (Error & { offset: number })[]
}

export interface OracleSession {
  execute(sql: string, binds: readonly unknown[], options: object): Promise<OracleResult>
  executeMany(sql: string, binds: readonly unknown[][], options: object): Promise<OracleResult>
  commit(): Promise<void>
  rollback(): Promise<void>
  close(): Promise<void>
}

export const loadOracle = () => loadDriver<OracleDriver>('oracledb', 'Oracle')

/**
 * Session settings that reads and key parameters rely on: a parameter text compared with a DATE or
 * TIMESTAMP column is read in these formats, numbers with a `.`, text compared and sorted by code
 * point (a linguistic NLS_SORT would order pages otherwise than `>` compares), instants in UTC.
 */
const sessionSql = `ALTER SESSION SET NLS_DATE_FORMAT = '${dateFormat}' NLS_TIMESTAMP_FORMAT = '${timestampFormat}' NLS_TIMESTAMP_TZ_FORMAT = '${timestampTzFormat}' NLS_NUMERIC_CHARACTERS = '.,' NLS_SORT = BINARY NLS_COMP = BINARY TIME_ZONE = '+00:00'`

/** Windows code pages of the non-Unicode database character sets whose characters ferry can check. */
const codePages: Record<string, number> = {
  WE8MSWIN1252: 1252,
  EE8MSWIN1250: 1250,
  CL8MSWIN1251: 1251,
  EL8MSWIN1253: 1253,
  TR8MSWIN1254: 1254,
  IW8MSWIN1255: 1255,
  AR8MSWIN1256: 1256,
  BLT8MSWIN1257: 1257,
  VN8MSWIN1258: 1258,
  WE8ISO8859P1: 28591,
}

/**
 * One Oracle connection through oracledb in thin mode (pure JavaScript), in a session set up for
 * exact values. A lost connection marks it broken; the next use opens a new one, and one that
 * cannot be reopened is a `ConnectionError`.
 */
export class OracleConnection implements SqlConnection {
  readonly engine = 'oracle'
  readonly spelling = oracleSpelling
  #driver?: OracleDriver
  #session?: OracleSession
  #broken = false
  #closed = false
  #schema = ''
  /** The database character set's code page: 65001 for AL32UTF8, 20127 (ASCII only) when unknown. */
  codePage = 65001

  constructor(
    readonly config: OracleConfig,
    readonly load: () => Promise<OracleDriver> = loadOracle,
  ) {}

  get place(): string {
    return `oracle schema \`${this.#schema}\``
  }

  get driver(): OracleDriver {
    if (!this.#driver) throw new Error('OracleConnection used before open()')
    return this.#driver
  }

  async open(): Promise<void> {
    this.#driver ??= await this.load()
    const session = await this.#driver.getConnection(this.config)
    try {
      await session.execute(sessionSql, [], {})
      this.#session = session
      this.#broken = false
      this.#closed = false
      const [row] = await this.query(
        `SELECT SYS_CONTEXT('USERENV', 'CURRENT_SCHEMA') AS "schema", (SELECT value FROM nls_database_parameters WHERE parameter = 'NLS_CHARACTERSET') AS "charset" FROM dual`,
        [],
      )
      this.#schema = String(row?.schema)
      const charset = String(row?.charset)
      this.codePage = charset === 'AL32UTF8' ? 65001 : (codePages[charset] ?? 20127)
    } catch (err) {
      this.#session = undefined
      await session.close().catch(() => {})
      throw err
    }
  }

  markBroken(): void {
    this.#broken = true
  }

  /** Whether text columns ferry creates can be VARCHAR2 and CLOB (an AL32UTF8 database). */
  get unicode(): boolean {
    return this.codePage === 65001
  }

  /** The session; a broken one is replaced first. After `close()` there is none. */
  async session(): Promise<OracleSession> {
    if (this.#closed) throw new Error(`the connection to the ${this.place} is closed`)
    if (this.#broken) {
      await this.#end()
      try {
        await this.open()
      } catch (err) {
        throw new ConnectionError(`the connection to the ${this.place} was lost and cannot be reopened: ${messageOf(err)}`, { cause: err })
      }
    }
    if (!this.#session) throw new Error('OracleConnection used before open()')
    return this.#session
  }

  /** Options of every query: rows as objects, NUMBER as its exact text, LOBs whole. */
  queryOptions(): object {
    const d = this.driver
    const fetchTypeHandler = (meta: { dbType?: DbType }) => {
      if (meta.dbType === d.DB_TYPE_NUMBER) return { type: d.STRING }
      if (meta.dbType === d.DB_TYPE_CLOB || meta.dbType === d.DB_TYPE_NCLOB) return { type: d.STRING }
      if (meta.dbType === d.DB_TYPE_BLOB) return { type: d.BUFFER }
      return undefined
    }
    return { outFormat: d.OUT_FORMAT_OBJECT, fetchTypeHandler, autoCommit: false }
  }

  async query(sql: string, params: readonly unknown[]): Promise<Row[]> {
    try {
      return (await (await this.session()).execute(sql, params, this.queryOptions())).rows ?? []
    } catch (err) {
      if (isConnectionError(err)) this.markBroken()
      throw err
    }
  }

  decoder(schema: TableSchema): (row: Row) => void {
    return rowDecoder(schema)
  }

  selectExpression(column: ColumnInfo): string | undefined {
    return selectExpression(column)
  }

  param(value: unknown, column: ColumnInfo): unknown {
    return paramValue(value, column)
  }

  describe(table: string): Promise<TableSchema | undefined> {
    return describeTable((sql, params) => this.query(sql, params), table)
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#end()
  }

  async #end(): Promise<void> {
    const session = this.#session
    this.#session = undefined
    await session?.close().catch(() => {})
  }
}
