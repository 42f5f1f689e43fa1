import type { SchemaWriter } from './catalog.js'
import type { FailureKind } from './errors.js'
import type { RawText } from './raw.js'
import type { ColumnInfo, KeyTuple, Row, TableSchema } from './types.js'

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
  /** The shape of the rows that will be written; used to create the table, keyed on its `primaryKey`. */
  readonly schema: TableSchema
  readonly mode: WriteMode
}

/** Where and how rows are written: the table, the columns the rows carry, the key upserts match on. */
export interface WriteTarget {
  readonly table: string
  /** The columns written, typed as the target declares them; other target columns are left alone. */
  readonly columns: readonly ColumnInfo[]
  /** The target key's columns: unique in the target. */
  readonly key: readonly string[]
}

/**
 * What a write reports when the target refused some rows by themselves and committed the others
 * (Oracle's `executeMany` with `batchErrors`, a bulk API's per-item results): the core sets those
 * rows aside as it does rows it isolates by splitting a batch, without splitting.
 */
export interface WriteResult {
  /** The refused rows, by index in the batch written, each with the error the target gave for it. */
  readonly rejected: readonly { readonly index: number; readonly error: unknown }[]
}

/** A secondary index as `deferIndexes` keeps it while it is dropped. */
export interface IndexDefinition {
  readonly name: string
  /** The engine's statement that builds it, e.g. `CREATE INDEX "items_name" ON "items" ("name")`. */
  readonly create: string
}

/** How a sink is opened. */
export interface SinkOptions {
  /**
   * Every commit is on disk, surviving a power cut, before `write` resolves (default false). A run
   * with checkpoints asks for it: a checkpoint records as done what was committed before it was
   * written, so those commits must not be lost when the file is not. Engines whose server decides
   * durability by its own settings (PostgreSQL, MySQL) ignore it.
   */
  readonly durableCommits?: boolean
  /**
   * The session cannot write (default false): dry runs and `--check` open their target so, and
   * nothing they run can change it. A SQLite file is then opened read-only, if it exists.
   */
  readonly readOnly?: boolean
  /**
   * False turns the target's own foreign-key checks off for the session, where the engine allows
   * (SQLite): a whole-database copy loads tables whose keys reference each other in a cycle, then
   * checks every foreign key itself.
   */
  readonly foreignKeyChecks?: boolean
}

/**
 * A database that rows are written to. `write` is one transaction: it resolves only when the batch
 * is committed and leaves nothing behind when it rejects. A sink that learns which rows the target
 * refuses may commit the others and resolve with those rows (`WriteResult`); every reported error
 * must be one `classify` calls `rejected`.
 */
export interface Sink {
  readonly engine: string
  /**
   * Whether the engine has geometry columns that keep a geometry's kind and SRID. Without them a
   * run that would write a geometry column is refused before it starts (`checkGeometry`).
   */
  readonly holdsGeometry?: boolean
  /**
   * A document store (MongoDB): a table takes any column, and the target key, whatever its
   * columns are called, is each document's id, unique by nature. The target's schema is then the
   * rows' own (typed like the source columns they carry), in fresh and resumed runs alike; what
   * `describe` infers from existing documents only says that the table is there.
   */
  readonly documents?: boolean
  /** The DDL of whole-database copies (`tables: 'all'`); an engine without it cannot take one. */
  readonly schema?: SchemaWriter
  /** Optional: writes a source's raw bulk text of the same format as it is (src/raw.ts). */
  readonly raw?: RawWriter
  open(): Promise<void>
  /** Creates, truncates or recreates the target as the plan says; returns the table's schema. */
  prepare(plan: PreparePlan): Promise<TableSchema>
  /** The target table's schema, or undefined when it does not exist. */
  describe(table: string): Promise<TableSchema | undefined>
  write(target: WriteTarget, rows: readonly Row[], kind: WriteKind): Promise<WriteResult | void>
  /** Rows of the target under the filter (in the engine's filter language). */
  count(table: string, filter?: string): Promise<number>
  /**
   * The target rows whose key is one of `keys` (tuples in `target.key` order), with the columns of
   * `target`, decoded as a source of this engine would read them. Rows not found are left out.
   */
  lookup(target: WriteTarget, keys: readonly KeyTuple[]): Promise<Row[]>
  /**
   * Every key of the target table under the filter (tuples in `target.key` order), in pages, in any order: how
   * validation names target rows no source row accounts for. Optional: without it, the target is
   * read back through a source of its engine, keyed on the target key (which a document store
   * keeps in `_id`, under another name).
   */
  keys?(target: WriteTarget, pageSize: number, filter?: string): AsyncIterable<KeyTuple[]>
  /**
   * Takes the database's own lock on the table for this connection's life (an advisory lock), so
   * that two runs writing one table are refused even from two machines; false when another holds
   * it. Optional: the lock file beside the checkpoint guards runs on one machine.
   */
  lock?(table: string): Promise<boolean>
  /**
   * Optional: switches the table to settings for a bulk load (Elasticsearch: refresh off) before a
   * load's first write, fresh or resumed, and returns what puts them back, which the core calls on
   * every way out of the load (end, failure, interrupt). The engine keeps what it changed in the
   * target itself, so that after a kill -9 the next run's call finds it and restores it.
   */
  loadSettings?(table: string): Promise<() => Promise<void>>
  /** Runs one SQL statement (for `before`/`after` steps). Optional: not every engine speaks SQL. */
  execute?(statement: string): Promise<void>
  /**
   * The table's secondary indexes: non-unique ones no key or constraint stands on, which
   * `deferIndexes` drops for the load. With `dropIndexes` and `createIndex`, optional: an engine without all three
   * keeps its indexes during the load.
   */
  secondaryIndexes?(table: string): Promise<IndexDefinition[]>
  /** Drops these indexes of the table; returns those dropped (one the engine needs, e.g. for a foreign key, stays). */
  dropIndexes?(table: string, indexes: readonly IndexDefinition[]): Promise<IndexDefinition[]>
  /**
   * Builds the index, durably, unless an index of that name exists: a run that follows a crash may
   * find it built already.
   */
  createIndex?(index: IndexDefinition): Promise<void>
  /**
   * Refuses, before anything is written, a target the engine cannot write as planned (Redis: the
   * key pattern's placeholders must be the target key's columns). Optional; dry runs call it too.
   */
  checkTarget?(target: TableSchema): void
  /** The engine's type for a column, as `prepare` would create it (shown by dry runs). */
  nativeType?(column: ColumnInfo): string
  /**
   * Optional: what a dry run should say about the names of a table the sink would create, when the
   * engine stores them otherwise than users may expect (Oracle keeps the case of quoted names, so
   * `users` is not `USERS`); undefined when there is nothing to say.
   */
  nameNote?(table: string, columns: readonly string[]): string | undefined
  /** Maps a failed write's error to what the pipeline should do about it. */
  classify(err: unknown): FailureKind
  close(): Promise<void>
}

/** A sink's raw write. */
export interface RawWriter {
  readonly format: string
  /**
   * Whether a value of the source column, written raw into the target column, is stored as the
   * decoded path would store it (or refused where that would refuse it).
   */
  accepts(from: ColumnInfo, to: ColumnInfo): boolean
  /**
   * One transaction, as `Sink.write`: resolves when committed, leaves nothing when it rejects.
   * The text may still be arriving; it is committed only after its last chunk.
   */
  write(target: WriteTarget, text: RawText, kind: WriteKind): Promise<void>
}
