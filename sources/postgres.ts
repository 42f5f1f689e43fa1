import type { ConnectionOptions } from '../src/endpoint.js'
import { classifyPgError, PgConnection, pgConfig } from '../src/engines/postgres.js'
import { CopyOutReader } from '../src/engines/postgres-copy-out.js'
import { SqlSource } from '../src/engines/sql/sql-source.js'

/**
 * Reads PostgreSQL with pg: a partition is one ordered query read through a server-side cursor,
 * `pageSize` rows at a time. Values come out exact (see src/values.ts): int8 as number or bigint,
 * numeric, date and timestamp as text, timestamptz as a UTC ISO string. The session is read-only
 * (`default_transaction_read_only=on`) and every query one statement (extended protocol): a filter
 * cannot write. A copy to PostgreSQL without a transform reads COPY text instead (`raw`).
 */
export function createSource(connection: string | ConnectionOptions): PostgresSource {
  return new PostgresSource(new PgConnection(pgConfig(connection, { readOnly: true })))
}

export class PostgresSource extends SqlSource {
  readonly raw: CopyOutReader

  constructor(connection: PgConnection) {
    super(connection, classifyPgError)
    this.raw = new CopyOutReader(connection)
  }
}
