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
  // The declaration beyond the type, read only by whole-database copies (`Catalog`); `describe`
  // leaves these out, so a one-table pipeline creates columns as before.
  /** The column's default, as SQL text of the schema's engine (`'active'`, `CURRENT_TIMESTAMP`). */
  readonly default?: string
  /** Values the database assigns (AUTO_INCREMENT, serial, identity, SQLite's INTEGER PRIMARY KEY). */
  readonly identity?: boolean
  /** MySQL's `ON UPDATE CURRENT_TIMESTAMP`, as SQL text; only MySQL has it. */
  readonly onUpdate?: string
  /** What the column is restricted to beyond its type: MySQL ENUM/SET members or YEAR, a PostgreSQL enum's labels. */
  readonly domain?: ColumnDomain
}

/** `enum`: one of `values` (MySQL ENUM, PostgreSQL enum); `set`: a comma-separated subset of them (MySQL SET); `year`: MySQL YEAR (0, 1901-2155). */
export type ColumnDomain =
  | { readonly kind: 'enum' | 'set'; readonly values: readonly string[] }
  | { readonly kind: 'year' }

/** A secondary or unique index (never the primary key's) as whole-database copies carry it. */
export interface IndexInfo {
  readonly name: string
  readonly columns: readonly { readonly name: string; readonly descending?: boolean; readonly length?: number }[]
  readonly unique: boolean
  /** MySQL's FULLTEXT and SPATIAL indexes: carried to MySQL only. */
  readonly kind?: 'fulltext' | 'spatial'
  /** Why ferry cannot carry it (an expression or partial index, another access method); it is then reported. */
  readonly unsupported?: string
}

export type ReferentialAction = 'NO ACTION' | 'RESTRICT' | 'CASCADE' | 'SET NULL' | 'SET DEFAULT'

export interface ForeignKeyInfo {
  readonly name: string
  readonly columns: readonly string[]
  readonly table: string
  readonly referencedColumns: readonly string[]
  readonly onDelete: ReferentialAction
  readonly onUpdate: ReferentialAction
}

/** A CHECK constraint: its condition as SQL text of the schema's engine. */
export interface CheckInfo {
  readonly name: string
  readonly sql: string
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
  /** Whole-database copies: secondary and unique indexes (not the primary key). */
  readonly indexes?: readonly IndexInfo[]
  readonly foreignKeys?: readonly ForeignKeyInfo[]
  readonly checks?: readonly CheckInfo[]
}
