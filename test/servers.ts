import test from 'ava'
import { MongoClient } from 'mongodb'
import { Redis } from 'ioredis'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { messageOf } from '../src/errors.js'
import { redactUrl } from '../src/redact.js'

/**
 * Server URLs for the tests: PG_URL / MYSQL_URL / MONGO_URL / REDIS_URL, else the servers `npm run
 * servers` starts. Redis tests use database 12 (and 13 as a second one), with key prefixes of their own.
 */
export const servers = {
  postgres: process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/ferry_test',
  mysql: process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/ferry_test',
  mongodb: process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27017/ferry_test',
  redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/12',
} as const

export type ServerName = keyof typeof servers

async function ping(name: ServerName): Promise<void> {
  if (name === 'postgres') {
    const client = new pg.Client({ connectionString: servers.postgres, connectionTimeoutMillis: 3000 })
    client.on('error', () => {})
    await client.connect()
    await client.end()
  } else if (name === 'redis') {
    const client = new Redis(servers.redis, { lazyConnect: true, connectTimeout: 3000, retryStrategy: () => null, maxRetriesPerRequest: 0 })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.ping()
    } finally {
      client.disconnect()
    }
  } else if (name === 'mysql') {
    const conn = await mysql.createConnection({ uri: servers.mysql, connectTimeout: 3000 })
    await conn.end()
  } else {
    const client = new MongoClient(servers.mongodb, { serverSelectionTimeoutMS: 3000 })
    try {
      await client.db('admin').command({ ping: 1 })
    } finally {
      await client.close()
    }
  }
}

const reachable = new Map<ServerName, Promise<string | undefined>>()

/** Undefined when the server answers, else why not. */
function problem(name: ServerName): Promise<string | undefined> {
  let answer = reachable.get(name)
  if (!answer) {
    answer = ping(name).then(
      () => undefined,
      (err: unknown) => messageOf(err) || String((err as { code?: unknown }).code),
    )
    reachable.set(name, answer)
  }
  return answer
}

/**
 * True when every named server answers. Otherwise registers one test that says so: under CI it
 * fails (a missing server must not pass unnoticed), elsewhere it is skipped with how to start them.
 */
export async function requireServers(...names: ServerName[]): Promise<boolean> {
  for (const name of names) {
    const why = await problem(name)
    if (why === undefined) continue
    const line = `${name} not reachable at ${redactUrl(servers[name])} (${why}); run \`npm run servers\` to start it`
    if (process.env.CI) test(line, (t) => t.fail(line))
    else test.skip(line, () => {})
    return false
  }
  return true
}

/** Runs statements on the test PostgreSQL server, one client for all. */
export async function pgQuery<R extends pg.QueryResultRow = Record<string, unknown>>(
  ...statements: (string | [string, unknown[]])[]
): Promise<R[]> {
  return pgQueryAt<R>(servers.postgres, ...statements)
}

/** Runs statements on a PostgreSQL URL (e.g. a scratch schema's); returns the last one's rows. */
export async function pgQueryAt<R extends pg.QueryResultRow = Record<string, unknown>>(
  url: string,
  ...statements: (string | [string, unknown[]])[]
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    let rows: R[] = []
    for (const s of statements) rows = (await (typeof s === 'string' ? client.query<R>(s) : client.query<R>(s[0], s[1]))).rows
    return rows
  } finally {
    await client.end()
  }
}

/** Runs statements on the test MySQL server; returns the last one's rows. */
export async function mysqlQuery<R = Record<string, unknown>>(...statements: (string | [string, unknown[]])[]): Promise<R[]> {
  return mysqlQueryAt<R>(servers.mysql, ...statements)
}

export async function mysqlQueryAt<R = Record<string, unknown>>(
  url: string,
  ...statements: (string | [string, unknown[]])[]
): Promise<R[]> {
  const conn = await mysql.createConnection({ uri: url, charset: 'utf8mb4' })
  try {
    let rows: unknown = []
    for (const s of statements) [rows] = typeof s === 'string' ? await conn.query(s) : await conn.query(s[0], s[1])
    return rows as R[]
  } finally {
    await conn.end()
  }
}

/** Drops the test tables whose names match, on both servers. */
export async function dropTables(pattern: RegExp): Promise<void> {
  const pgTables = await pgQuery<{ t: string }>('SELECT tablename AS t FROM pg_tables WHERE schemaname = current_schema()')
  const pgDrops = pgTables.filter((r) => pattern.test(r.t)).map((r) => `DROP TABLE IF EXISTS "${r.t.replaceAll('"', '""')}"`)
  if (pgDrops.length) await pgQuery(...pgDrops)
  const myTables = await mysqlQuery<{ t: string }>('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()')
  const myDrops = myTables.filter((r) => pattern.test(r.t)).map((r) => `DROP TABLE IF EXISTS \`${r.t.replaceAll('`', '``')}\``)
  if (myDrops.length) await mysqlQuery(...myDrops)
}

/**
 * A URL for a scratch namespace of its own: a PostgreSQL schema (first on the search_path) or a
 * MySQL database, created now; `dropNamespaces` removes them.
 */
export async function scratchUrl(server: ServerName, name: string): Promise<string> {
  created.push({ server, name })
  if (server === 'mongodb') {
    // A database appears with its first collection; dropNamespaces drops it.
    const url = new URL(servers.mongodb)
    url.pathname = `/${name}`
    return url.toString()
  }
  if (server === 'postgres') {
    await pgQuery(`CREATE SCHEMA IF NOT EXISTS "${name}"`)
    const url = new URL(servers.postgres)
    url.searchParams.set('options', `-c search_path=${name}`)
    return url.toString()
  }
  await mysqlQuery(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4`)
  const url = new URL(servers.mysql)
  url.pathname = `/${name}`
  return url.toString()
}

const created: { server: ServerName; name: string }[] = []

export async function dropNamespaces(): Promise<void> {
  for (const { server, name } of created.splice(0)) {
    if (server === 'postgres') await pgQuery(`DROP SCHEMA IF EXISTS "${name}" CASCADE`)
    else if (server === 'mysql') await mysqlQuery(`DROP DATABASE IF EXISTS \`${name}\``)
    else await withMongo(servers.mongodb, (client) => client.db(name).dropDatabase())
  }
}

/** Runs `use` with a MongoDB client on `url`, closed after. */
export async function withMongo<T>(url: string, use: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 })
  try {
    return await use(client)
  } finally {
    await client.close()
  }
}

/**
 * Servers no package registry here can install (SQL Server, Oracle): their tests run when
 * FERRY_TEST_MSSQL_URL / FERRY_TEST_ORACLE_URL point at one, e.g.
 * `mssql://sa:Passw0rd!@127.0.0.1:1433/master?trustServerCertificate=true` or
 * `oracle://ferry:ferry@127.0.0.1:1521/FREEPDB1`.
 */
export const externalServers = {
  mssql: { variable: 'FERRY_TEST_MSSQL_URL', url: process.env.FERRY_TEST_MSSQL_URL },
  oracle: { variable: 'FERRY_TEST_ORACLE_URL', url: process.env.FERRY_TEST_ORACLE_URL },
} as const

/**
 * The server's URL, or undefined after registering one skipped test that says how to run them
 * (in CI too: no CI machine of ours can have these servers). A URL that is set but does not answer
 * fails the tests, as it should.
 */
export function externalServer(name: keyof typeof externalServers): string | undefined {
  const { variable, url } = externalServers[name]
  if (!url) test.skip(`${name}: ${variable} not set; set it to a server's URL to run these tests`, () => {})
  return url || undefined
}

/** The test Redis server's URL with another database number (and URL parameters). */
export function redisUrl(db: number, params = ''): string {
  const url = new URL(servers.redis)
  url.pathname = `/${db}`
  return `${url.toString().replace(/\?.*$/, '')}${params}`
}

/** A client on a test Redis database; the caller quits it. */
export function redisClient(url = servers.redis): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1 })
}

/** Deletes the keys and the schema records of a prefix (a plain word, no glob characters) in a test Redis database. */
export async function dropRedisKeys(url: string, prefix: string): Promise<void> {
  const client = redisClient(url)
  try {
    for (const match of [`${prefix}*`, `ferry:schema:${prefix}*`]) {
      for await (const keys of client.scanStream({ match, count: 1000 }) as AsyncIterable<string[]>) {
        if (keys.length) await client.unlink(...keys)
      }
    }
  } finally {
    client.disconnect()
  }
}
