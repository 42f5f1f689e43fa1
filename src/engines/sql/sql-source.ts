import type { Catalog } from '../../catalog.js'
import { ConfigError, ConnectionError, type FailureKind, FerryError } from '../../errors.js'
import type { Filter, Page, ReadSpec, Source, TableRead } from '../../source.js'
import type { Json, TableSchema } from '../../types.js'
import type { SqlDriver } from './driver.js'
import { countRows, hasNullKey, keyPartitions, keysetPages, schemaOf } from './queries.js'

/** An SQL connection that can be opened and closed: what an SQL engine's source is built on. */
export interface SqlConnection extends SqlDriver {
  open(): Promise<void>
  close(): Promise<void>
  /** The database's tables with their full schema (whole-database copies). */
  catalog?(): Promise<Catalog>
}

/**
 * The source of every SQL engine: partitions are key ranges cut at every n-th key, positions the
 * last key read, reads keyset pages in the key order of the source's own collation. An engine
 * brings only its connection (driver, spelling, types) and how its errors are classified.
 */
export class SqlSource implements Source {
  readonly engine: string

  constructor(
    readonly connection: SqlConnection,
    readonly classifyError: (err: unknown) => FailureKind,
  ) {
    this.engine = connection.engine
  }

  open(): Promise<void> {
    return this.connection.open()
  }

  catalog(): Promise<Catalog> {
    if (!this.connection.catalog) throw new ConfigError(`the ${this.engine} source cannot list its tables: copy its tables by name`)
    return this.connection.catalog()
  }

  describe(table: string): Promise<TableSchema> {
    return schemaOf(this.connection, table)
  }

  count(table: string, filter?: Filter): Promise<number> {
    return countRows(this.connection, table, filter)
  }

  partitions(read: TableRead, rowsPerPartition?: number): Promise<Json[]> {
    return keyPartitions(this.connection, read, rowsPerPartition)
  }

  hasNullKey(read: TableRead, columns: readonly string[]): Promise<boolean> {
    return hasNullKey(this.connection, read, columns)
  }

  read(spec: ReadSpec): AsyncIterable<Page> {
    return keysetPages(this.connection, spec)
  }

  /**
   * The engine's classes, except for ferry's own errors (a key found not unique, a bad filter):
   * reading again would meet them again. A connection that could not be reopened is transient.
   */
  classify(err: unknown): FailureKind {
    if (err instanceof FerryError && !(err instanceof ConnectionError)) return 'fatal'
    return this.classifyError(err)
  }

  close(): Promise<void> {
    return this.connection.close()
  }
}
