import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import type { ConnectionOptions } from '../src/endpoint.js'
import {
  classifyPgError,
  describeTable,
  isConnectionError,
  PgConnection,
  pgConfig,
  pgSpelling,
  pgType,
  quoteIdent,
} from '../src/engines/postgres.js'
import { acceptsCopyText, copyTextFormat } from '../src/engines/postgres-copy.js'
import { createTableSql, truncateRefused } from '../src/engines/sql/ddl.js'
import { onConflictUpdate } from '../src/engines/sql/upsert.js'
import { countRows, lookupRows } from '../src/engines/sql/queries.js'
import { type FailureKind, messageOf, SinkWriteError } from '../src/errors.js'
import type { IndexDefinition, PreparePlan, RawWriter, Sink, SinkOptions, WriteKind, WriteTarget } from '../src/sink.js'
import type { ColumnInfo, KeyTuple, Row, TableSchema } from '../src/types.js'
import { checkRows } from '../src/values.js'
import { copyText } from './postgres-copy-text.js'
import { createEnumTypes, pgColumnType, pgExtras, PostgresSchemaWriter } from './postgres-schema.js'

export function createSink(connection: string | ConnectionOptions, options: SinkOptions = {}): PostgresSink {
  return new PostgresSink(pgConfig(connection, { readOnly: options.readOnly ?? false }))
}

/**
 * Writes PostgreSQL with `COPY … FROM STDIN` (text format), one transaction per batch. Upserts COPY
 * into a session-local staging table, then `INSERT … SELECT … ON CONFLICT (key) DO UPDATE`. A lost
 * connection is reopened by the next write, so retries can succeed. A COMMIT is as durable as the
 * server's `synchronous_commit` makes it (on by default: the WAL is flushed before COMMIT returns),
 * so `durableCommits` needs nothing here; ferry leaves the setting to the server.
 */
export class PostgresSink implements Sink {
  readonly engine = 'postgres'
  readonly #connection: PgConnection
  /** Staging tables created in this session (they live until it ends). */
  readonly #stages = new Set<string>()
  #session?: pg.Client
  /** Whole-database copies: the DDL run after the data. */
  readonly schema: PostgresSchemaWriter

  constructor(config: pg.ClientConfig) {
    this.#connection = new PgConnection(config)
    this.schema = new PostgresSchemaWriter(
      async (sql, params = []) => (await (await this.#client()).query(sql, params as unknown[])).rows as Row[],
      (table) => this.#connection.describe(table),
    )
  }

  async open(): Promise<void> {
    await this.#connection.open()
  }

  /** The client; a new session (after a lost connection) has no staging tables yet. */
  async #client(): Promise<pg.Client> {
    const client = await this.#connection.client()
    if (client !== this.#session) {
      this.#stages.clear()
      this.#session = client
    }
    return client
  }

  describe(table: string): Promise<TableSchema | undefined> {
    return this.#connection.describe(table)
  }

  async prepare(plan: PreparePlan): Promise<TableSchema> {
    const client = await this.#client()
    const table = quoteIdent(plan.table)
    await this.#transaction(client, async () => {
      if (plan.mode === 'recreate') await client.query(`DROP TABLE IF EXISTS ${table}`)
      if (!(await describeTable(client, plan.table))) {
        await createEnumTypes(async (sql, params = []) => (await client.query(sql, params as unknown[])).rows as Row[], plan.schema)
        await client.query(createTableSql(pgSpelling, plan.table, plan.schema, (c) => pgColumnType(plan.table, c), '', pgExtras))
      }
      else if (plan.mode === 'truncate') await client.query(`TRUNCATE ${table}`)
    }).catch((err: unknown) => this.#truncateError(plan.table, err))
    this.#stages.clear()
    return (await describeTable(client, plan.table))!
  }

  /** TRUNCATE refused (rolled back) because foreign keys reference the table (0A000): says which, and what to do. */
  async #truncateError(table: string, err: unknown): Promise<never> {
    if ((err as { code?: unknown }).code !== '0A000') throw err
    const { rows } = await (await this.#client()).query<{ name: string }>(referencingSql, [table])
    throw truncateRefused(table, rows.map((r) => r.name), messageOf(err))
  }

  async write(target: WriteTarget, rows: readonly Row[], kind: WriteKind): Promise<void> {
    // numeric(p,s) and timestamps round extra digits without an error: refuse them first.
    checkRows(target, rows)
    await this.#copyIn(target, kind, target.columns.map((c) => c.name), () => copyText(target.columns, rows))
  }

  /**
   * The raw passthrough: a source's COPY text, written as it is. Upserts (a resumed partition's
   * replay, upsert mode) go through the staging table as decoded rows do: COPY cannot upsert.
   */
  readonly raw: RawWriter = {
    format: copyTextFormat,
    accepts: acceptsCopyText,
    write: (target, text, kind) => this.#copyIn(target, kind, text.columns, () => text.chunks),
  }

  /** One transaction: COPY `text` into the table (or, to upsert, into the staging table and from it). */
  async #copyIn(target: WriteTarget, kind: WriteKind, columns: readonly string[], text: () => Iterable<string | Buffer> | AsyncIterable<Buffer>): Promise<void> {
    const client = await this.#client()
    const into = kind === 'upsert' ? await this.#stage(client, target) : target.table
    try {
      await this.#transaction(client, async () => {
        const copy = client.query(copyFrom(`COPY ${quoteIdent(into)} (${columns.map(quoteIdent).join(', ')}) FROM STDIN`))
        await pipeline(Readable.from(text()), copy)
        if (kind === 'upsert') await client.query(upsertSql(target, into))
      })
    } catch (err) {
      throw describeError(err)
    }
  }

  async #transaction(client: pg.Client, body: () => Promise<void>): Promise<void> {
    await client.query('BEGIN')
    try {
      await body()
      await client.query('COMMIT')
    } catch (err) {
      if (isConnectionError(err)) this.#connection.markBroken()
      else await client.query('ROLLBACK').catch(() => this.#connection.markBroken())
      throw err
    }
  }

  /** A temporary table shaped like the written columns, emptied at each commit. */
  async #stage(client: pg.Client, target: WriteTarget): Promise<string> {
    const shape = [target.table, ...target.columns.map((c) => c.name)].join('\0')
    const name = `ferry_stage_${createHash('sha1').update(shape).digest('hex').slice(0, 16)}`
    if (!this.#stages.has(name)) {
      const columns = target.columns.map((c) => quoteIdent(c.name)).join(', ')
      await client.query(
        `CREATE TEMP TABLE IF NOT EXISTS ${quoteIdent(name)} ON COMMIT DELETE ROWS AS SELECT ${columns} FROM ${quoteIdent(target.table)} WITH NO DATA`,
      )
      this.#stages.add(name)
    }
    return name
  }

  count(table: string, filter?: string): Promise<number> {
    return countRows(this.#connection, table, filter)
  }

  lookup(target: WriteTarget, keys: readonly KeyTuple[]): Promise<Row[]> {
    return lookupRows(this.#connection, target, keys)
  }

  /** A session advisory lock on the schema's table; the session's end releases it. */
  async lock(table: string): Promise<boolean> {
    const sql = "SELECT pg_try_advisory_lock(hashtext('ferry:' || current_schema() || '.' || $1)) AS ok"
    const { rows } = await (await this.#client()).query<{ ok: boolean }>(sql, [table])
    return rows[0]!.ok
  }

  async execute(statement: string): Promise<void> {
    await (await this.#client()).query(statement)
  }

  /**
   * Non-unique indexes that back no constraint (primary key, unique, exclusion), in the current
   * schema. A unique index stays even without a constraint: it enforces the data, and an upsert's
   * ON CONFLICT may stand on it.
   */
  async secondaryIndexes(table: string): Promise<IndexDefinition[]> {
    const { rows } = await (await this.#client()).query<{ name: string; create: string }>(secondaryIndexesSql, [table])
    return rows
  }

  /** Qualified by the current schema, where `secondaryIndexes` found them, whatever else the search path holds. */
  async dropIndexes(_table: string, indexes: readonly IndexDefinition[]): Promise<IndexDefinition[]> {
    const client = await this.#client()
    const { rows } = await client.query<{ schema: string }>('SELECT quote_ident(current_schema()) AS schema')
    await this.#transaction(client, async () => {
      for (const index of indexes) await client.query(`DROP INDEX IF EXISTS ${rows[0]!.schema}.${quoteIdent(index.name)}`)
    })
    return [...indexes]
  }

  /** `pg_get_indexdef` spells `CREATE [UNIQUE] INDEX name ON schema.table …`: IF NOT EXISTS goes after INDEX. */
  async createIndex(index: IndexDefinition): Promise<void> {
    const statement = index.create.replace(/^CREATE (UNIQUE )?INDEX (?!IF NOT EXISTS )/, 'CREATE $1INDEX IF NOT EXISTS ')
    await (await this.#client()).query(statement)
  }

  nativeType(column: ColumnInfo): string {
    return pgType(column)
  }

  classify(err: unknown): FailureKind {
    return classifyPgError(err)
  }

  close(): Promise<void> {
    return this.#connection.close()
  }
}

const referencingSql = `
SELECT DISTINCT c.conrelid::regclass::text AS name FROM pg_constraint c
WHERE c.contype = 'f' AND c.confrelid = to_regclass(quote_ident(current_schema()) || '.' || quote_ident($1))`

const secondaryIndexesSql = `
SELECT ic.relname AS name, pg_get_indexdef(i.indexrelid) AS create
FROM pg_index i
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE c.relname = $1 AND n.nspname = current_schema()
  AND NOT i.indisunique AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY ic.relname`

function upsertSql(target: WriteTarget, stage: string): string {
  const names = target.columns.map((c) => quoteIdent(c.name)).join(', ')
  return `INSERT INTO ${quoteIdent(target.table)} (${names}) SELECT ${names} FROM ${quoteIdent(stage)} ${onConflictUpdate(pgSpelling, target.columns, target.key)}`
}

/** The driver's error with what PostgreSQL says about where it happened (column, COPY line). */
function describeError(err: unknown): unknown {
  const e = err as Partial<pg.DatabaseError>
  if (err instanceof SinkWriteError || typeof e.message !== 'string') return err
  const column = e.column ?? /\bcolumn (.+?): /.exec(e.where ?? '')?.[1]
  const parts = [e.message, column && `column \`${column}\``, e.detail?.slice(0, 300)]
  return new SinkWriteError(parts.filter(Boolean).join('; '), classifyPgError(err), { cause: err })
}
