import type { ConnectionOptions } from '../config.js'
import { SqliteSink } from '../../sinks/sqlite.js'
import { SqliteSource } from '../../sources/sqlite.js'
import { sqliteFilename } from './sqlite.js'

export function createSource(connection: string | ConnectionOptions): SqliteSource {
  return new SqliteSource(sqliteFilename(connection))
}

export function createSink(connection: string | ConnectionOptions): SqliteSink {
  return new SqliteSink(sqliteFilename(connection))
}
