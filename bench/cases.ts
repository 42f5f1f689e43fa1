import { spawnSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import Database from 'better-sqlite3'
import {
  mariadb,
  mariadbArgs,
  mongoUrl,
  my,
  myUrl,
  pg,
  pgUrl,
  psql,
  psqlArgs,
  sh,
  sourceTable,
  sqliteFile,
  sqliteTargetFile,
  sqliteDumpFile,
  run,
} from './config.js'
import { myDdl, type SourceKind } from './generate.js'
import { esBenchUrl, esCount } from './elasticsearch.js'
import { redisBench, redisCases, redisSource, redisTarget } from './redis.js'

export type Db = SourceKind | 'redis' | 'elasticsearch'
export const dbLabel: Record<Db, string> = { postgres: 'PG', mysql: 'MySQL', sqlite: 'SQLite', mongodb: 'MongoDB', redis: 'Redis', elasticsearch: 'Elasticsearch' }

/** A source → target path. */
export interface Path {
  readonly from: Db
  readonly to: Db
}
export const pathLabel = (p: Path): string => `${dbLabel[p.from]}→${dbLabel[p.to]}`
const short = (db: Db): string => db.replace('postgres', 'pg').replace('elasticsearch', 'es')
const pathId = (p: Path): string => `${short(p.from)}-${short(p.to)}`

/** One benchmarked command. `prepare` and `rowsWritten` run outside the timing. */
export interface Case {
  /** What `--only` matches: `ferry:pg-pg:streaming`, `ref:pg-pg:copy-pipe`. */
  readonly id: string
  readonly path: Path
  readonly tool: string
  readonly strategy: string
  readonly reference: boolean
  /** Shell script to time, and the environment it runs with. */
  readonly script: string
  readonly env?: Record<string, string>
  /** Dialects ferry must have registered for the case to run (none for references). */
  readonly needsDialects: readonly Db[]
  prepare?(): void
  /** Rows in the target after a run: checked against N. */
  rowsWritten(): number
}

export const strategies = ['streaming', 'chunked', 'parallel'] as const
export const workers = 2
/** `ferry worker` processes of the distributed case, all on this machine, on the bench's Redis (database 10). */
export const distributedWorkers = 3

/**
 * The distributed case: three workers started in the background, the planner in front; the time
 * is the planner's run (workers' start-up included), the workers stopped when it ends.
 */
function distributedScript(): string {
  const queue = sh(`redis://${redisBench.host}:${redisBench.port}/10`)
  const worker = (n: number) =>
    `${workerCommand} --queue ${queue} --queue-name ferry-bench --name bench-w${n} --log-level warn --log-dir bench/.out/logs &`
  const planner = `${ferryCommand} --queue ${queue} --queue-name ferry-bench; rc=$?`
  return [...Array.from({ length: distributedWorkers }, (_, i) => worker(i + 1)), planner, 'kill $(jobs -p); wait; exit $rc'].join('\n')
}

export const ferryPaths: Path[] = [
  { from: 'postgres', to: 'postgres' },
  { from: 'mysql', to: 'postgres' },
  { from: 'sqlite', to: 'postgres' },
  { from: 'postgres', to: 'mysql' },
  { from: 'mysql', to: 'mysql' },
  { from: 'postgres', to: 'sqlite' },
  { from: 'sqlite', to: 'sqlite' },
]

const ferryTable = 'users_ferry'
const url = (db: Db, rows: number, role: 'source' | 'target'): string =>
  db === 'redis'
    ? role === 'source' ? redisSource(rows).url : redisTarget.url
    : db === 'postgres'
    ? pgUrl()
    : db === 'mysql'
      ? myUrl()
      : db === 'mongodb'
        ? mongoUrl()
        : db === 'elasticsearch'
          ? esBenchUrl()
          : `sqlite:${role === 'source' ? sqliteFile(rows) : sqliteTargetFile}`

function countIn(db: Db, table: string, dbName?: string): number {
  if (db === 'postgres') return Number(psql(`SELECT count(*) FROM ${table}`, dbName))
  if (db === 'mysql') return Number(mariadb(`SELECT count(*) FROM ${table}`, dbName ?? my.db))
  if (db === 'mongodb') return mongoCount(table)
  if (db === 'elasticsearch') return esCount(table)
  return sqliteCount(table)
}

/** Documents in a collection, by a child process (the cases' checks are synchronous). */
function mongoCount(table: string): number {
  const script = `const { MongoClient } = require('mongodb'); MongoClient.connect(process.argv[1]).then(async (c) => { console.log(await c.db().collection(process.argv[2]).countDocuments()); await c.close() })`
  const r = spawnSync(process.execPath, ['-e', script, mongoUrl(), table], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`counting ${table}: ${r.stderr.trim()}`)
  return Number(r.stdout.trim())
}

function sqliteCount(table: string, file = sqliteTargetFile): number {
  const db = new Database(file, { readonly: true })
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n
  } finally {
    db.close()
  }
}

const scripts = (JSON.parse(readFileSync(resolve('package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
/** The command a ferry case times: `npm run pipeline`'s (the compiled CLI and its node flags) on the bench pipeline. */
export const ferryCommand = `${scripts.pipeline} bench/pipelines/bench.ts`
/** `npm run worker`'s command. */
const workerCommand = scripts.worker!

/**
 * What a PG → PG case changes from a straight copy: `decoded` sets `passthrough: false`, so that a
 * same-engine copy decodes its rows; `transform` runs the users demo's transform (pipelines/users.ts).
 */
export type Variant = 'decoded' | 'transform'
const variantLabel: Record<Variant, string> = { decoded: 'decoded (passthrough off)', transform: "the users demo's transform" }

/** ferry through the CLI and the bench pipeline file, as a user would run it. */
export function ferryCase(path: Path, strategy: string, rows: number, chunkSize?: number, variant?: Variant): Case {
  const label = strategy === 'parallel' ? `parallel (${workers} workers)` : strategy
  return {
    id: `ferry:${pathId(path)}:${strategy}${variant ? `-${variant}` : ''}`,
    path,
    tool: 'ferry',
    strategy: variant ? `${label}, ${variantLabel[variant]}` : strategy === 'distributed' ? `distributed (${distributedWorkers} workers)` : label,
    reference: false,
    script: strategy === 'distributed' ? distributedScript() : `exec ${ferryCommand}`,
    env: {
      ...(variant === 'decoded' && { PASSTHROUGH: 'false' }),
      ...(variant === 'transform' && { TRANSFORM: 'users' }),
      SOURCE_URL: url(path.from, rows, 'source'),
      TARGET_URL: url(path.to, rows, 'target'),
      SOURCE_TABLE: path.from === 'redis' ? redisSource(rows).table : sourceTable(rows),
      TARGET_TABLE: path.to === 'redis' ? redisTarget.table : ferryTable,
      STRATEGY: strategy,
      WORKERS: String(workers),
      // A collection is keyed on _id: the generated id.
      KEY: path.from === 'mongodb' ? '_id' : 'id',
      ...(chunkSize !== undefined && { CHUNK_SIZE: String(chunkSize) }),
    },
    needsDialects: [path.from, path.to],
    // A SQLite target keeps its file from run to run: recreate's DROP of the previous run's table
    // is timed, as a user pays it (50–320 ms at 1M rows, BENCHMARKS.md, "SQLite recreate").
    ...(path.to === 'redis' && { prepare: redisTarget.prepare }),
    rowsWritten: () => (path.to === 'redis' ? redisTarget.rowsWritten() : countIn(path.to, ferryTable)),
  }
}

const pgCmd = (sql: string, db = pg.db): string => `psql ${psqlArgs(db).map(sh).join(' ')} -c ${sh(sql)}`
const myCmd = (sql: string, db: string): string => `mariadb ${mariadbArgs(db).map(sh).join(' ')} -e ${sh(sql)}`
const loadDataInto = (table: string, file: string): string =>
  `LOAD DATA LOCAL INFILE '${file}' INTO TABLE ${table} CHARACTER SET utf8mb4 FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '"' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n'`

/** The tools a user would otherwise reach for, one per path that has one. */
export function referenceCases(rows: number): Case[] {
  const table = sourceTable(rows)
  const pgloaderEnv = {
    BENCH_TABLE: table,
    BENCH_SQLITE: sqliteFile(rows),
    BENCH_MYSQL_URL: myUrl(),
    BENCH_PG_URL: pgUrl(pg.pgloaderDb),
  }
  return [
    {
      id: 'ref:pg-pg:copy-pipe',
      path: { from: 'postgres', to: 'postgres' },
      tool: 'psql COPY | psql COPY',
      strategy: '—',
      reference: true,
      script: `${pgCmd(`COPY ${table} TO STDOUT`)} | ${pgCmd('COPY users_copy FROM STDIN')}`,
      needsDialects: [],
      prepare: () => psql(`DROP TABLE IF EXISTS users_copy; CREATE TABLE users_copy (LIKE ${table} INCLUDING ALL)`),
      rowsWritten: () => countIn('postgres', 'users_copy'),
    },
    {
      id: 'ref:pg-mysql:copy-load-data',
      path: { from: 'postgres', to: 'mysql' },
      tool: 'psql COPY csv | LOAD DATA',
      strategy: '—',
      reference: true,
      // MariaDB reads a boolean as 1/0, and a bare \N as NULL.
      script: `${pgCmd(`COPY (SELECT id, first_name, last_name, email, status, score, active::int, created_at, bio FROM ${table}) TO STDOUT WITH (FORMAT csv, NULL '\\N')`)} | ${myCmd(loadDataInto('users_copy', '/dev/stdin'), my.db)}`,
      needsDialects: [],
      prepare: () => mariadb(`DROP TABLE IF EXISTS users_copy; ${myDdl('users_copy')}`, my.db),
      rowsWritten: () => countIn('mysql', 'users_copy'),
    },
    {
      id: 'ref:mysql-pg:pgloader',
      path: { from: 'mysql', to: 'postgres' },
      tool: 'pgloader',
      strategy: '—',
      reference: true,
      script: `pgloader --no-ssl-cert-verification ${sh(resolve('bench/pgloader/mysql-to-pg.load'))}`,
      env: pgloaderEnv,
      needsDialects: [],
      rowsWritten: () => countIn('postgres', table, pg.pgloaderDb),
    },
    {
      id: 'ref:sqlite-pg:pgloader',
      path: { from: 'sqlite', to: 'postgres' },
      tool: 'pgloader',
      strategy: '—',
      reference: true,
      script: `pgloader ${sh(resolve('bench/pgloader/sqlite-to-pg.load'))}`,
      env: pgloaderEnv,
      needsDialects: [],
      rowsWritten: () => countIn('postgres', table, pg.pgloaderDb),
    },
    {
      id: 'ref:sqlite-sqlite:dump',
      path: { from: 'sqlite', to: 'sqlite' },
      tool: 'sqlite3 .dump | sqlite3',
      strategy: '—',
      reference: true,
      // The dump is one transaction of INSERTs, into a fresh file (a WAL file like ferry's target).
      script: `sqlite3 ${sh(sqliteFile(rows))} ${sh(`.dump ${table}`)} | sqlite3 ${sh(sqliteDumpFile)}`,
      needsDialects: [],
      prepare: () => {
        for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(sqliteDumpFile + suffix, { force: true })
        run('sqlite3', [sqliteDumpFile, 'PRAGMA journal_mode = WAL'])
      },
      rowsWritten: () => sqliteCount(table, sqliteDumpFile),
    },
    {
      id: 'ref:mysql-mysql:mysqldump',
      path: { from: 'mysql', to: 'mysql' },
      tool: 'mysqldump | mariadb',
      strategy: '—',
      reference: true,
      script: `mysqldump ${['-h', my.host, '-P', my.port, '-u', my.user].map(sh).join(' ')} ${my.db} ${table} | mariadb ${mariadbArgs(my.dumpDb).map(sh).join(' ')}`,
      needsDialects: [],
      prepare: () => mariadb(`DROP TABLE IF EXISTS ${table}`, my.dumpDb),
      rowsWritten: () => countIn('mysql', table, my.dumpDb),
    },
  ]
}

/** Every case of the main table, references first within each path. */
export function allCases(rows: number): Case[] {
  const refs = referenceCases(rows)
  return [
    ...ferryPaths.flatMap((path) => [
      ...refs.filter((r) => r.path.from === path.from && r.path.to === path.to),
      ...strategies.map((s) => ferryCase(path, s, rows)),
      // Beside parallel, on one path: the same ranges as jobs for ferry worker processes.
      ...(path.from === 'postgres' && path.to === 'postgres' ? [ferryCase(path, 'distributed', rows)] : []),
      // The raw passthrough beside the decoded path it replaces, and a copy with a transform (issue 15).
      ...(path.from === 'postgres' && path.to === 'postgres'
        ? (['decoded', 'transform'] as const).map((v) => ferryCase(path, 'streaming', rows, undefined, v))
        : []),
    ]),
    ...redisCases(rows, (from, strategy) => ferryCase({ from, to: 'redis' }, strategy, rows)),
  ]
}

/**
 * MongoDB's paths (`npm run bench -- --mongodb`): PG → MongoDB and back. No reference tool:
 * mongoimport and mongoexport (mongodb/mongo-tools) are in no registry these machines reach (not in
 * Debian; the Go module proxy refuses the module). Reads from FerretDB sort the whole collection in
 * memory for every range, so the chunked read from it takes four chunks, not one per 10,000 rows.
 */
export function mongoCases(rows: number): Case[] {
  const into = { from: 'postgres', to: 'mongodb' } as const
  const back = { from: 'mongodb', to: 'postgres' } as const
  return [
    ...strategies.map((s) => ferryCase(into, s, rows)),
    ferryCase(back, 'streaming', rows),
    ferryCase(back, 'chunked', rows, Math.ceil(rows / 4)),
  ]
}
