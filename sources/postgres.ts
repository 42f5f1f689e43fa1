import type { ConnectionOptions } from '../src/endpoint.js'
import { classifyPgError, PgConnection, pgConfig } from '../src/engines/postgres.js'
import { SqlSource } from '../src/engines/sql/sql-source.js'

/**
 * Reads PostgreSQL with pg: a partition is one ordered query read through a server-side cursor,
 * `pageSize` rows at a time. Values come out exact (see src/values.ts): int8 as number or bigint,
 * numeric, date and timestamp as text, timestamptz as a UTC ISO string. The session is read-only
 * (`default_transaction_read_only=on`) and every query one statement (extended protocol): a filter
 * cannot write.
 */
export function createSource(connection: string | ConnectionOptions): SqlSource {
  return new SqlSource(new PgConnection(pgConfig(connection, { readOnly: true })), classifyPgError)
}
