import type { ConnectionOptions } from '../config.js'
import { ConfigError } from '../errors.js'
import { redactUrl } from '../redact.js'
import { type MysqlBulkMethod, MysqlSink } from '../../sinks/mysql/mysql-sink.js'
import { MysqlSource } from '../../sources/mysql.js'
import { mysqlOptions } from './mysql.js'

export function createSource(connection: string | ConnectionOptions): MysqlSource {
  return new MysqlSource(mysqlOptions(without(connection)))
}

export function createSink(connection: string | ConnectionOptions): MysqlSink {
  return new MysqlSink(mysqlOptions(without(connection)), bulkMethod(connection))
}

/**
 * How the sink writes batches (see `MysqlBulkMethod`): `?bulk=insert` in the URL or
 * `bulk: 'insert'` in the options picks multi-row INSERT; the default is LOAD DATA LOCAL INFILE.
 */
function bulkMethod(connection: string | ConnectionOptions): MysqlBulkMethod {
  const value = typeof connection === 'string' ? urlOf(connection).searchParams.get('bulk') : connection.bulk
  if (value === undefined || value === null) return 'load'
  if (value === 'insert' || value === 'load') return value
  throw new ConfigError(`mysql option \`bulk\` must be \`insert\` or \`load\` (got ${JSON.stringify(value)})`)
}

function urlOf(connection: string): URL {
  try {
    return new URL(connection)
  } catch {
    throw new ConfigError(`\`${redactUrl(connection)}\` is not a valid mysql URL`)
  }
}

/** The connection without ferry's own `bulk` setting, which mysql2 would not know. */
function without(connection: string | ConnectionOptions): string | ConnectionOptions {
  if (typeof connection !== 'string') {
    const { bulk: _, ...rest } = connection
    return rest as ConnectionOptions
  }
  const url = urlOf(connection)
  url.searchParams.delete('bulk')
  return url.toString()
}
