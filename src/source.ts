import type { Key, KeyRange, Row, TableSchema } from './types.js'

/** What to read: one key range of one table, in key order, in pages of `pageSize` rows. */
export interface ReadSpec {
  readonly table: string
  readonly key: string
  readonly range: KeyRange
  /** A SQL condition written by the pipeline's author, ANDed with the key range. */
  readonly where?: string | undefined
  readonly pageSize: number
}

/** A key range over a named key column. */
export interface KeyRangeOf {
  readonly key: string
  readonly range: KeyRange
}

/**
 * A database that rows are read from. One instance holds one connection; the parallel strategy
 * opens one per worker.
 */
export interface Source {
  /** The database kind, as in URLs: `sqlite`, `postgres`, `mysql`. */
  readonly dialect: string
  open(): Promise<void>
  /** Columns, their types and the primary key. Throws `MissingTableError`. */
  describe(table: string): Promise<TableSchema>
  count(table: string, where?: string, keyRange?: KeyRangeOf): Promise<number>
  /**
   * Every `every`-th key in key order (the last key of each run of `every` rows) under the filter:
   * split points that give chunks of equal row counts whatever the gaps or skew in the keys.
   */
  splitKeys(table: string, key: string, every: number, where?: string): Promise<Key[]>
  /** The largest key in the range, or undefined when the range holds no row. */
  maxKey(table: string, key: string, range: KeyRange, where?: string): Promise<Key | undefined>
  /** Pages of rows in key order, read by keyset pagination; closes its cursor when abandoned. */
  read(spec: ReadSpec): AsyncIterable<Row[]>
  close(): Promise<void>
}
