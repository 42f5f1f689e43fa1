import type { FailureKind } from './errors.js'
import type { ColumnInfo, Key, KeyRange, Row, TableSchema } from './types.js'

/**
 * How the target table is prepared at the start of a fresh run (never on resume) and how rows are
 * written:
 * - `upsert` (default): create the table when missing; insert or update on the key.
 * - `insert`: create the table when missing; plain inserts, a duplicate key is a rejected row.
 * - `truncate`: create when missing, else empty it; then insert.
 * - `recreate`: drop and create from the schema; then insert.
 */
export type WriteMode = 'upsert' | 'insert' | 'truncate' | 'recreate'

/** How one batch is written: inserts are the fast path, upserts make replays harmless. */
export type WriteKind = 'insert' | 'upsert'

export interface PreparePlan {
  readonly table: string
  /** The shape of the rows that will be written; used to create the table. */
  readonly schema: TableSchema
  readonly mode: WriteMode
}

/**
 * A database that rows are written to. `write` is one transaction: it resolves only when the batch
 * is committed and leaves nothing behind when it rejects.
 */
export interface Sink {
  readonly dialect: string
  open(): Promise<void>
  /** Creates, truncates or recreates the target as the plan says; returns the table's schema. */
  prepare(plan: PreparePlan): Promise<TableSchema>
  /** The target table's schema, or undefined when it does not exist. */
  describe(table: string): Promise<TableSchema | undefined>
  /** Writes rows into `target.table`; its columns and primary key say what to insert and upsert on. */
  write(target: TableSchema, rows: readonly Row[], kind: WriteKind): Promise<void>
  /** The largest key in the range: where a resumed run must switch from upserts back to inserts. */
  maxKey(table: string, key: string, range: KeyRange): Promise<Key | undefined>
  /** The `keyId`s of those of these keys that the table holds already (skip-existing). */
  existingKeys(table: string, key: string, keys: readonly Key[]): Promise<Set<string>>
  /** Runs one SQL statement (for `before`/`after` steps). Optional: not every engine speaks SQL. */
  execute?(statement: string): Promise<void>
  /**
   * Drops the table's secondary indexes and returns the statements that build them again
   * (`deferIndexes`). Optional: engines without it keep their indexes during the load.
   */
  dropSecondaryIndexes?(table: string): Promise<string[]>
  /** The engine's type for a column, as `prepare` would create it (shown by dry runs). */
  nativeType?(column: ColumnInfo): string
  /** Maps a failed write's error to what the pipeline should do about it. */
  classify(err: unknown): FailureKind
  close(): Promise<void>
}
