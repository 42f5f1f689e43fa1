import type { Catalog } from './catalog.js'
import type { FailureKind } from './errors.js'
import type { ReadingPage } from './raw.js'
import type { Json, Row, TableSchema } from './types.js'

/**
 * A source's filter: SQL text for the SQL engines (`"status <> 'deleted'"`), or the engine's own
 * filter document for engines that have one.
 */
export type Filter = string | { readonly [key: string]: unknown }

/** One table read in the order of a key that the source guarantees unique and not null. */
export interface TableRead {
  readonly table: string
  /** The key's columns, in order. */
  readonly key: readonly string[]
  readonly filter?: Filter | undefined
}

/** What to read: one partition of a table, from a position in it, in pages of `pageSize` rows. */
export interface ReadSpec extends TableRead {
  /** A partition as `partitions` returned it. */
  readonly partition: Json
  /** The position after the last page already handled, as a page reported it; undefined: from the start. */
  readonly after?: Json | undefined
  readonly pageSize: number
  /** About how many bytes a page may hold (a raw read cuts its pages by it); default: no limit. */
  readonly pageBytes?: number
  /** Read only these columns (validation reads keys only); default: every column. */
  readonly columns?: readonly string[]
  /**
   * The key is asserted unique, not declared: the source must hand over every row even where two
   * share a key (a keyset read overlaps its pages by one row), so that the reader sees them.
   */
  readonly verifyUnique?: boolean
  /**
   * The rows go unchanged (no transform) to a sink of the same engine: the source may attach its
   * own encoding of each row, which that sink writes as it is (Redis: DUMP, restored by RESTORE).
   */
  readonly passthrough?: boolean
}

/** Rows in key order, and the position just after the last of them. */
export interface Page {
  readonly rows: Row[]
  readonly position: Json
}

/**
 * A database that rows are read from. One instance holds one connection; the parallel strategy
 * opens one per worker. Partitions and positions are the source's own JSON values: the core stores
 * them in checkpoints and hands them back, never comparing or interpreting them.
 */
export interface Source {
  /** The engine, as the registry names it: `sqlite`, `postgres`, `mysql`. */
  readonly engine: string
  /**
   * A read resumed from a position may hand over again rows that the stopped read had already
   * handed over (Redis: SCAN returns a key twice when the keyspace is resized in between). The
   * core then writes a resumed partition with upserts to its end, not only over its lease.
   */
  readonly resumeRepeats?: boolean
  /**
   * Optional: reads a partition as the engine's own bulk text, never decoding a row, for a sink of
   * the same format (src/raw.ts). The core uses it when the copy has no transform and the columns
   * fit (`passthroughFor`).
   */
  readonly raw?: RawReader
  open(): Promise<void>
  /** Whole-database copies: every base table with its full schema, and what is not copied. */
  catalog?(): Promise<Catalog>
  /** Columns, types, primary and unique keys. Throws `MissingTableError`. */
  describe(table: string): Promise<TableSchema>
  count(table: string, filter?: Filter): Promise<number>
  /**
   * Cuts the rows under the filter into partitions of about `rowsPerPartition` rows each, in key
   * order, whatever the gaps or skew in the keys; one partition for the whole table when undefined.
   * Rows added after planning still fall in some partition.
   */
  partitions(read: TableRead, rowsPerPartition?: number): Promise<Json[]>
  /** Whether a row under the filter has NULL in one of these key columns. */
  hasNullKey(read: TableRead, columns: readonly string[]): Promise<boolean>
  /**
   * Pages of rows of one partition in key order; closes what it holds when abandoned. A read that
   * failed may be started again from the position of the last page it handed over (the core does,
   * for a `transient` failure): the source must then reconnect a lost connection by itself.
   */
  read(spec: ReadSpec): AsyncIterable<Page>
  /** Maps a failed read's error to what the core should do: only `transient` ones are retried. */
  classify(err: unknown): FailureKind
  close(): Promise<void>
}

/** A source's raw read: the same partitions, positions and order as its decoded read. */
export interface RawReader {
  /** What the text is, e.g. `postgres-copy-text`; a sink of the same format writes it. */
  readonly format: string
  /**
   * Pages of at most `spec.pageSize` rows and, but for a single row longer than that,
   * `spec.pageBytes` bytes, each handed over as it begins. Closes what it holds when abandoned; a
   * failed read may be started again from the last whole page's position, as a decoded read may.
   */
  read(spec: ReadSpec): AsyncIterable<ReadingPage>
}
