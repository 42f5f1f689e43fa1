/** A row as drivers hand it over: column name to value. */
export type Row = Record<string, unknown>

/** A primary-key value. Keys are read and compared in the order the database sorts them. */
export type Key = number | bigint | string

/**
 * A half-open range of keys: rows with `gt < key <= lte`. A missing bound is open, so the first
 * range of a table has no `gt` and the last no `lte` (rows added past the last split still belong
 * to a range).
 */
export interface KeyRange {
  readonly gt?: Key
  readonly lte?: Key
}

/** The engine-independent type of a column, used to create target tables and compare values. */
export type LogicalType =
  | 'integer'
  | 'bigint'
  | 'decimal'
  | 'float'
  | 'boolean'
  | 'text'
  | 'date'
  | 'timestamp'
  | 'timestamptz'
  | 'json'
  | 'bytes'
  | 'uuid'

export interface ColumnInfo {
  readonly name: string
  /** The engine's own type name, as the catalog spells it (`varchar(255)`, `INTEGER`). */
  readonly nativeType: string
  readonly type: LogicalType
  readonly nullable: boolean
  /** For decimal: total digits and digits after the point, when the engine declares them. */
  readonly precision?: number
  readonly scale?: number
}

export interface TableSchema {
  readonly table: string
  readonly columns: readonly ColumnInfo[]
  readonly primaryKey: readonly string[]
}
