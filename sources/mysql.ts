import type { ConnectionOptions } from '../src/endpoint.js'
import { classifyMysqlError, mysqlOptions } from '../src/engines/mysql.js'
import { MysqlConnection } from '../src/engines/mysql-connection.js'
import { SqlSource } from '../src/engines/sql/sql-source.js'

/**
 * Reads MySQL or MariaDB with mysql2 by keyset pagination: each page is one
 * `WHERE key > last ORDER BY key LIMIT n` query, so an abandoned read holds nothing open. Values
 * come out exact (see src/values.ts): BIGINT as number or bigint, DECIMAL as text, FLOAT as the
 * value stored, dates as text, tinyint(1) as boolean, JSON parsed, geometries as EWKB. The session
 * is read-only (`SET SESSION TRANSACTION READ ONLY`) and takes one statement a query: a filter
 * cannot write.
 */
export function createSource(connection: string | ConnectionOptions): SqlSource {
  return new SqlSource(new MysqlConnection(mysqlOptions(connection), { readOnly: true }), classifyMysqlError)
}
