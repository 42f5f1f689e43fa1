import type { ConnectionOptions } from '../src/endpoint.js'
import { classifyMssqlError, mssqlConfig } from '../src/engines/mssql.js'
import { MssqlConnection } from '../src/engines/mssql-connection.js'
import { SqlSource } from '../src/engines/sql/sql-source.js'

/**
 * Reads SQL Server with mssql (over tedious) by keyset pages: each page is one
 * `SELECT TOP (@n) … WHERE key > @last ORDER BY key` query, so an abandoned read holds nothing
 * open. Values come out exact (see src/values.ts): bigint as number or bigint, decimal and money
 * as text, datetime2 to 100 ns and datetimeoffset in UTC as text, GUIDs in lower case.
 */
export function createSource(connection: string | ConnectionOptions): SqlSource {
  return new SqlSource(new MssqlConnection(mssqlConfig(connection)), classifyMssqlError)
}
