import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'

/** Where the bench keeps generated sources and run output (both git-ignored). */
export const dataDir = resolve('bench/.data')
export const outDir = resolve('bench/.out')

/**
 * The servers of `npm run servers`: trust auth for PostgreSQL, root without a password for
 * MariaDB. Sources and ferry's targets share one database per server; the tools that insist on
 * their own table or schema names (mysqldump, pgloader) load into a database of their own.
 */
export const pg = {
  host: process.env.BENCH_PG_HOST ?? '127.0.0.1',
  port: process.env.BENCH_PG_PORT ?? '5432',
  user: process.env.BENCH_PG_USER ?? 'postgres',
  db: 'ferry_bench',
  pgloaderDb: 'ferry_bench_pgloader',
}
export const my = {
  host: process.env.BENCH_MY_HOST ?? '127.0.0.1',
  port: process.env.BENCH_MY_PORT ?? '3306',
  user: process.env.BENCH_MY_USER ?? 'root',
  db: 'ferry_bench',
  dumpDb: 'ferry_bench_dump',
}

/** FerretDB or MongoDB: `npm run servers` starts FerretDB here. */
export const mongoUrl = (): string => process.env.BENCH_MONGO_URL ?? 'mongodb://127.0.0.1:27017/ferry_bench'

export const pgUrl = (db = pg.db): string => `postgres://${pg.user}@${pg.host}:${pg.port}/${db}`
export const myUrl = (db = my.db): string => `mysql://${my.user}@${my.host}:${my.port}/${db}`
export const sqliteFile = (rows: number): string => resolve(dataDir, `users-${rows}.db`)
export const sqliteTargetFile = resolve(dataDir, 'target.db')
/** The sqlite3 shell's `.dump | sqlite3` loads into this file. */
export const sqliteDumpFile = resolve(dataDir, 'dump-target.db')

/** The source table of an N-row run: one per size, so the 1M and 5M sources coexist. */
export const sourceTable = (rows: number): string => `users_${rows}`

/** psql's arguments for a database, without reading ~/.psqlrc. */
export const psqlArgs = (db = pg.db): string[] => [
  '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', pg.host, '-p', pg.port, '-U', pg.user, '-d', db,
]
export const mariadbArgs = (db?: string): string[] => [
  '-h', my.host, '-P', my.port, '-u', my.user, '--local-infile=1', ...(db ? [db] : []),
]

/** Runs a command to completion; throws with its stderr when it fails. */
export function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', maxBuffer: 64 << 20 })
  if (r.error) throw r.error
  if (r.status !== 0) {
    throw new Error(`\`${cmd} ${args.join(' ')}\` exited ${r.status}: ${r.stderr.trim()}`)
  }
  return r.stdout
}

export const psql = (sql: string, db = pg.db): string => run('psql', [...psqlArgs(db), '-tA', '-c', sql]).trim()
export const mariadb = (sql: string, db?: string): string =>
  run('mariadb', [...mariadbArgs(db), '-N', '-B', '-e', sql]).trim()

/** Single-quoted shell word. */
export const sh = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`
