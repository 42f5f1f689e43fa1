import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream, existsSync, mkdirSync, openSync, closeSync, renameSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import Database from 'better-sqlite3'
import { type Db, Decimal128, type Document, MongoClient } from 'mongodb'
import { random } from '../src/demo.js'
import {
  dataDir,
  mariadb,
  mongoUrl,
  my,
  pg,
  psql,
  psqlArgs,
  sourceTable,
  sqliteFile,
} from './config.js'

/** Bump when the rows change: every cached source is then generated again. */
export const generatorVersion = 1

const firstNames = ['Ada', 'José', 'Zoë', 'Li', 'Mary Ann', 'Søren', 'Chloé', 'Omar', 'Priya', 'Jürgen', 'Ana', 'Kenji', 'Fatima', 'Łukasz', 'François', "D'Arcy"]
const lastNames = ["O'Brien", 'Núñez', 'Müller', 'Smith', 'Nguyễn', 'Kowalski', 'García', 'Ivanova', 'Tanaka', 'Dubois', "D'Angelo", 'Öztürk', 'Brontë', 'Brown']
const domains = ['example.com', 'mail.example.org', 'legacy.net', 'corp.example']
const statuses = ['active', 'active', 'active', 'inactive', 'suspended', 'pending']
const bios = [
  'Enjoys "slow" travel, jazz, and long walks',
  'Former "Head of Ops", now freelance',
  'Speaks English, Français, and Deutsch',
  'Collects stamps, coins, and "rare" maps',
  'Says "it works on my machine", often',
  'Café owner, cyclist, père de famille',
  'Runs marathons, bakes bread',
]

/** One generated row, in column order: see `columns`. */
export type UserRow = [
  id: number,
  firstName: string,
  lastName: string,
  email: string,
  status: string,
  score: string,
  active: boolean,
  createdAt: string,
  bio: string | null,
]

export const columns = ['id', 'first_name', 'last_name', 'email', 'status', 'score', 'active', 'created_at', 'bio']

/**
 * The bench's `users` rows, the same on every machine for a given count: names with non-ASCII
 * letters and apostrophes, a bio with commas and double quotes that is NULL for a quarter of the
 * rows; about 130 bytes of CSV a row.
 */
export function* users(count: number, seed = 5): Generator<UserRow> {
  const next = random(seed)
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!
  const start = Date.UTC(2015, 0, 1) / 1000
  const span = Date.UTC(2025, 0, 1) / 1000 - start
  for (let id = 1; id <= count; id++) {
    const first = pick(firstNames)
    const last = pick(lastNames)
    const ascii = (s: string) => s.normalize('NFD').replace(/[^A-Za-z]/g, '').toLowerCase()
    const when = new Date((start + Math.floor(next() * span)) * 1000)
    const bio = next() < 0.25 ? null : next() < 0.5 ? pick(bios) : `${pick(bios)}; ${pick(bios)}`
    yield [
      id,
      first,
      last,
      `${ascii(first)}.${ascii(last)}.${id}@${pick(domains)}`,
      pick(statuses),
      (Math.floor(next() * 10_000_000) / 100).toFixed(2),
      next() < 0.8,
      when.toISOString().slice(0, 19).replace('T', ' '),
      bio,
    ]
  }
}

const quote = (s: string): string => `"${s.replaceAll('"', '""')}"`

/**
 * One CSV line that PostgreSQL (`FORMAT csv, NULL '\N'`) and MariaDB (`ENCLOSED BY '"'`,
 * `ESCAPED BY '\\'`) read alike: text always quoted with doubled quotes, NULL as a bare `\N`,
 * booleans as 1/0. The rows hold no backslash, so MariaDB's escape character never fires.
 */
export function csvLine(r: UserRow): string {
  return `${r[0]},${quote(r[1])},${quote(r[2])},${quote(r[3])},${r[4]},${r[5]},${r[6] ? 1 : 0},${r[7]},${r[8] === null ? '\\N' : quote(r[8])}\n`
}

/** Writes `count` rows as CSV to `file` (written under a temp name, then renamed). */
export async function writeCsv(file: string, count: number): Promise<void> {
  const temp = `${file}.tmp`
  const out = createWriteStream(temp)
  let chunk = ''
  let n = 0
  for (const row of users(count)) {
    chunk += csvLine(row)
    if (++n % 10_000 === 0) {
      if (!out.write(chunk)) await once(out, 'drain')
      chunk = ''
    }
  }
  out.end(chunk)
  await once(out, 'finish')
  renameSync(temp, file)
}

/** Runs a command with a file as its standard input; rejects with its stderr when it fails. */
async function feed(cmd: string, args: string[], file: string): Promise<void> {
  const fd = openSync(file, 'r')
  try {
    const child = spawn(cmd, args, { stdio: [fd, 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
    const [code] = (await once(child, 'close')) as [number]
    if (code !== 0) throw new Error(`\`${cmd}\` exited ${code}: ${stderr.trim()}`)
  } finally {
    closeSync(fd)
  }
}

export const pgDdl = (table: string): string =>
  `CREATE TABLE ${table} (id bigint NOT NULL, first_name varchar(64) NOT NULL, last_name varchar(64) NOT NULL, email varchar(255) NOT NULL, status varchar(16) NOT NULL, score numeric(10,2) NOT NULL, active boolean NOT NULL, created_at timestamp NOT NULL, bio text)`
export const myDdl = (table: string): string =>
  `CREATE TABLE ${table} (id bigint NOT NULL PRIMARY KEY, first_name varchar(64) NOT NULL, last_name varchar(64) NOT NULL, email varchar(255) NOT NULL, status varchar(16) NOT NULL, score decimal(10,2) NOT NULL, active boolean NOT NULL, created_at datetime NOT NULL, bio text) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`
const sqliteDdl = (table: string): string =>
  `CREATE TABLE ${table} (id INTEGER PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT NOT NULL, email TEXT NOT NULL, status TEXT NOT NULL, score NUMERIC(10,2) NOT NULL, active BOOLEAN NOT NULL, created_at TIMESTAMP NOT NULL, bio TEXT)`

/** Creates the bench databases on both servers when missing. */
export function ensureDatabases(): void {
  for (const db of [pg.db, pg.pgloaderDb]) {
    if (psql(`SELECT 1 FROM pg_database WHERE datname = '${db}'`, 'postgres') !== '1') {
      psql(`CREATE DATABASE ${db}`, 'postgres')
    }
  }
  psql('CREATE TABLE IF NOT EXISTS bench_meta (tbl text PRIMARY KEY, rows bigint NOT NULL, version int NOT NULL)')
  mariadb(`CREATE DATABASE IF NOT EXISTS ${my.db} CHARACTER SET utf8mb4; CREATE DATABASE IF NOT EXISTS ${my.dumpDb} CHARACTER SET utf8mb4`)
  mariadb('CREATE TABLE IF NOT EXISTS bench_meta (tbl varchar(64) PRIMARY KEY, `rows` bigint NOT NULL, version int NOT NULL)', my.db)
}

export type SourceKind = 'postgres' | 'mysql' | 'sqlite' | 'mongodb'

const marker = `${generatorVersion}`

function pgLoaded(table: string): boolean {
  return psql(`SELECT version FROM bench_meta WHERE tbl = '${table}'`) === marker
}
function myLoaded(table: string): boolean {
  return mariadb(`SELECT version FROM bench_meta WHERE tbl = '${table}'`, my.db) === marker
}
function sqliteLoaded(file: string): boolean {
  if (!existsSync(file)) return false
  const db = new Database(file, { readonly: true })
  try {
    const row = db.prepare('SELECT version FROM bench_meta').get() as { version: number } | undefined
    return String(row?.version) === marker
  } catch {
    return false
  } finally {
    db.close()
  }
}

/**
 * Makes sure each named source holds the `rows`-row table `users_<rows>`; generates only what is
 * missing or was made by another generator version (recorded in each database's `bench_meta`).
 */
export async function ensureSources(rows: number, kinds: readonly SourceKind[], log = console.log): Promise<void> {
  mkdirSync(dataDir, { recursive: true })
  ensureDatabases()
  const table = sourceTable(rows)
  const loaded: Record<SourceKind, () => boolean | Promise<boolean>> = {
    postgres: () => pgLoaded(table),
    mysql: () => myLoaded(table),
    sqlite: () => sqliteLoaded(sqliteFile(rows)),
    mongodb: () => mongoLoaded(table),
  }
  const todo: SourceKind[] = []
  for (const k of kinds) if (!(await loaded[k]())) todo.push(k)
  if (todo.length === 0) return
  const started = performance.now()
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1)
  const csv = resolve(dataDir, `users-${rows}.csv`)
  if (todo.some((k) => k === 'postgres' || k === 'mysql')) {
    log(`generating ${rows} rows as CSV…`)
    await writeCsv(csv, rows)
    log(`  csv written (${seconds()} s)`)
  }
  if (todo.includes('postgres')) {
    psql(`DROP TABLE IF EXISTS ${table}; DELETE FROM bench_meta WHERE tbl = '${table}'; ${pgDdl(table)}`)
    await feed('psql', [...psqlArgs(), '-c', `COPY ${table} FROM STDIN WITH (FORMAT csv, NULL '\\N')`], csv)
    // VACUUM sets the hint bits now, so the first timed read does not pay for writing them.
    psql(`ALTER TABLE ${table} ADD PRIMARY KEY (id)`)
    psql(`VACUUM (ANALYZE) ${table}`)
    psql(`INSERT INTO bench_meta VALUES ('${table}', ${rows}, ${generatorVersion})`)
    log(`  postgres ${table} loaded (${seconds()} s)`)
  }
  if (todo.includes('mysql')) {
    mariadb(`DROP TABLE IF EXISTS ${table}; DELETE FROM bench_meta WHERE tbl = '${table}'; ${myDdl(table)}`, my.db)
    mariadb(
      `SET unique_checks = 0; LOAD DATA LOCAL INFILE '${csv}' INTO TABLE ${table} CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'; ANALYZE TABLE ${table}; INSERT INTO bench_meta VALUES ('${table}', ${rows}, ${generatorVersion})`,
      my.db,
    )
    log(`  mariadb ${table} loaded (${seconds()} s)`)
  }
  rmSync(csv, { force: true })
  if (todo.includes('sqlite')) {
    writeSqlite(sqliteFile(rows), table, rows)
    log(`  sqlite ${sqliteFile(rows)} loaded (${seconds()} s)`)
  }
  if (todo.includes('mongodb')) {
    await writeMongo(table, rows)
    log(`  mongodb ${table} loaded (${seconds()} s)`)
  }
}

async function withBenchDb<T>(use: (db: Db, ferretdb: boolean) => Promise<T>): Promise<T> {
  const client = await MongoClient.connect(mongoUrl(), { serverSelectionTimeoutMS: 5000 })
  try {
    const info = await client.db('admin').command({ buildInfo: 1 })
    return await use(client.db(), 'ferretdbVersion' in info)
  } finally {
    await client.close()
  }
}

function mongoLoaded(table: string): Promise<boolean> {
  return withBenchDb(async (db) => String((await db.collection<{ _id: string; version: number }>('bench_meta').findOne({ _id: table }))?.version) === marker)
}

/**
 * The MongoDB source: documents keyed by the user id, the score a Decimal128 (a string on
 * FerretDB, which has none), created_at a date (the timestamp read as UTC).
 */
async function writeMongo(table: string, rows: number): Promise<void> {
  await withBenchDb(async (db, ferretdb) => {
    await db.collection(table).drop().catch(() => {})
    let batch: Document[] = []
    for (const r of users(rows)) {
      batch.push({
        _id: r[0],
        first_name: r[1],
        last_name: r[2],
        email: r[3],
        status: r[4],
        score: ferretdb ? r[5] : Decimal128.fromString(r[5]),
        active: r[6],
        created_at: new Date(`${r[7].replace(' ', 'T')}Z`),
        bio: r[8],
      })
      if (batch.length === 10_000) {
        await db.collection(table).insertMany(batch, { ordered: false })
        batch = []
      }
    }
    if (batch.length) await db.collection(table).insertMany(batch, { ordered: false })
    await db.collection<{ _id: string; version: number }>('bench_meta').replaceOne({ _id: table }, { version: generatorVersion }, { upsert: true })
  })
}

/** The SQLite source: one transaction of prepared inserts into a temp file, renamed when done. */
function writeSqlite(file: string, table: string, rows: number): void {
  const temp = `${file}.tmp`
  rmSync(temp, { force: true })
  const db = new Database(temp)
  db.pragma('journal_mode = OFF')
  db.pragma('synchronous = OFF')
  db.exec(`${sqliteDdl(table)}; CREATE TABLE bench_meta (rows INTEGER NOT NULL, version INTEGER NOT NULL)`)
  const insert = db.prepare(`INSERT INTO ${table} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
  db.transaction(() => {
    for (const r of users(rows)) insert.run(r[0], r[1], r[2], r[3], r[4], r[5], r[6] ? 1 : 0, r[7], r[8])
    db.prepare('INSERT INTO bench_meta VALUES (?, ?)').run(rows, generatorVersion)
  })()
  db.close()
  renameSync(temp, file)
}

/** `node --import tsx bench/generate.ts [rows] [postgres,mysql,sqlite,mongodb]`: generate without benchmarking. */
if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = Number(process.argv[2] ?? 1_000_000)
  const kinds = (process.argv[3]?.split(',') ?? ['postgres', 'mysql', 'sqlite']) as SourceKind[]
  await ensureSources(rows, kinds)
}
