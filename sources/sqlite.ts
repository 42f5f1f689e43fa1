import type { ConnectionOptions } from '../src/endpoint.js'
import { classifySqliteError, SqliteConnection, sqliteFilename } from '../src/engines/sqlite.js'
import { SqlSource } from '../src/engines/sql/sql-source.js'

/**
 * Reads a SQLite file with better-sqlite3, read-only, by keyset pages: each page is one
 * `WHERE key > last ORDER BY key LIMIT n` query. Integers are read exactly (as bigint beyond 2^53).
 */
export function createSource(connection: string | ConnectionOptions): SqlSource {
  return new SqlSource(new SqliteConnection(sqliteFilename(connection), { writable: false }), classifySqliteError)
}
