import type { Endpoint } from '../endpoint.js'
import { messageOf } from '../errors.js'
import type { Sink } from '../sink.js'
import { engineOf } from './registry.js'

/**
 * Creates the target database of a whole-database copy when it does not exist: PostgreSQL through
 * the `postgres` maintenance database, MySQL through a connection without a database (utf8mb4).
 * A SQLite file is created by its first write. Returns the database created, or undefined.
 */
export async function createDatabaseIfMissing(endpoint: Endpoint<Sink>): Promise<string | undefined> {
  if (typeof endpoint !== 'string') return undefined
  const engine = engineOf(endpoint)
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    return undefined
  }
  const name = decodeURIComponent(url.pathname.slice(1))
  if (!name || (engine !== 'postgres' && engine !== 'mysql')) return undefined
  if (engine === 'postgres') {
    const { default: pg } = await import('pg')
    url.pathname = '/postgres'
    url.searchParams.delete('options')
    const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 10_000 })
    client.on('error', () => {})
    try {
      await client.connect()
      const { rows } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
      if (rows.length) return undefined
      await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`)
      return name
    } catch (err) {
      throw new Error(`cannot create the target database \`${name}\`: ${messageOf(err)}`, { cause: err })
    } finally {
      await client.end().catch(() => {})
    }
  }
  const { default: mysql } = await import('mysql2/promise')
  const { mysqlOptions } = await import('./mysql.js')
  const { database: _, ...options } = mysqlOptions(endpoint.replace(/\?.*$/, ''))
  const conn = await mysql.createConnection(options)
  try {
    const [rows] = await conn.query<import('mysql2').RowDataPacket[]>('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name])
    if (rows.length) return undefined
    await conn.query(`CREATE DATABASE \`${name.replaceAll('`', '``')}\` CHARACTER SET utf8mb4`)
    return name
  } finally {
    await conn.end().catch(() => {})
  }
}
