import type { ConnectionOptions } from '../src/endpoint.js'
import { classifyOracleError, oracleConfig } from '../src/engines/oracle.js'
import { OracleConnection } from '../src/engines/oracle-connection.js'
import { SqlSource } from '../src/engines/sql/sql-source.js'

/**
 * Reads Oracle with oracledb in thin mode by keyset pages: each page is one
 * `… WHERE key > :last ORDER BY key FETCH FIRST :n ROWS ONLY` query, so an abandoned read holds
 * nothing open. Values come out exact (see src/values.ts): NUMBER as its text (narrowed to numbers
 * for integer columns), DATE and TIMESTAMP as text to the nanosecond, instants in UTC, CLOBs and
 * BLOBs whole, RAW(16) UUIDs as text.
 */
export function createSource(connection: string | ConnectionOptions): SqlSource {
  return new SqlSource(new OracleConnection(oracleConfig(connection)), classifyOracleError)
}
