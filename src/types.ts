/** A row as drivers hand it over: column name to value. */
export type Row = Record<string, unknown>

/**
 * A value that survives `JSON.stringify` and `JSON.parse` unchanged. Partitions and positions are
 * such values: the engine that makes them gives them meaning, the core only stores and returns them.
 */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json }

/** The values of a key's columns, in the key's column order. */
export type KeyTuple = readonly unknown[]

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
  | 'geometry'

/** What a geometry column is declared to hold, in the OGC names MySQL and PostGIS share. */
export type GeometryKind =
  | 'GEOMETRY'
  | 'POINT'
  | 'LINESTRING'
  | 'POLYGON'
  | 'MULTIPOINT'
  | 'MULTILINESTRING'
  | 'MULTIPOLYGON'
  | 'GEOMETRYCOLLECTION'

export interface ColumnInfo {
  readonly name: string
  /** The engine's own type name, as the catalog spells it (`varchar(255)`, `INTEGER`). */
  readonly nativeType: string
  readonly type: LogicalType
  readonly nullable: boolean
  /**
   * For decimal: total digits and digits after the point, when the engine declares them. For
   * float: 24 for a single-precision column (MySQL `FLOAT`), which holds only values that are 32-bit
   * floats; absent for double precision. For timestamp and timestamptz: `scale` is the digits after
   * the point the column keeps (SQL Server's `datetime2(7)` 7, Oracle's `TIMESTAMP(9)` 9, a DATE
   * 0); absent means microseconds (6).
   */
  readonly precision?: number
  readonly scale?: number
  /** For geometry: the kind of geometry the column holds, and its declared SRID if it has one. */
  readonly geometry?: { readonly kind: GeometryKind; readonly srid?: number }
}

export interface TableSchema {
  readonly table: string
  readonly columns: readonly ColumnInfo[]
  /** The primary key's columns in key order; empty when the table has none. */
  readonly primaryKey: readonly string[]
  /**
   * Every set of columns the engine guarantees unique over the whole table: the primary key and
   * each unique constraint or full (not partial, not expression) unique index.
   */
  readonly uniqueKeys: readonly (readonly string[])[]
  /**
   * How the engine stores the rows, for an engine with several ways (Redis: `hash`, `json`,
   * `string`, `list`, `set`, `zset`). Carried to the target of a copy without a transform.
   */
  readonly storage?: string
}
