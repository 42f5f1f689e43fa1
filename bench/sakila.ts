// `npm run bench -- --sakila`: a whole database (Sakila at its own size, samples/sakila) copied
// MySQL → PostgreSQL and SQLite → PostgreSQL by `ferry copy` and by pgloader, timed the same way,
// with what each left on the target: tables, rows, indexes, foreign keys, checks, enum types.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { loadMysql, loadSqlite } from '../samples/sakila/generate.js'
import { dataDir, mariadb, my, outDir, pgUrl, psql, sh } from './config.js'
import { measure, median } from './measure.js'

const sourceDb = 'ferry_bench_sakila'
const sqliteSource = resolve(dataDir, 'sakila.db')
const targets = { ferry: 'ferry_sakila_ferry', pgloader: 'ferry_sakila_pgloader' }

interface Created {
  tables: number
  rows: number
  indexes: number
  uniques: number
  foreignKeys: number
  checks: number
  enums: number
  identities: number
}

export interface SakilaResult {
  path: string
  tool: string
  seconds: number
  runs: number[]
  created: Created
}

/** The generated sources, made once (about Sakila's counts: 47,169 rows over 16 tables). */
function ensureSources(): void {
  mkdirSync(dataDir, { recursive: true })
  if (!existsSync(sqliteSource)) loadSqlite(sqliteSource, 1)
}

const mysqlUrl = `mysql://${my.user}@${my.host}:${my.port}/${sourceDb}`

/** Objects in the target database's public schema, as PostgreSQL's catalog counts them. */
function created(db: string): Created {
  const n = (sql: string) => Number(psql(sql, db) || 0)
  const tables = psql("SELECT string_agg(quote_ident(tablename), ',') FROM pg_tables WHERE schemaname = 'public'", db).split(',').filter(Boolean)
  return {
    tables: tables.length,
    rows: tables.reduce((sum, t) => sum + n(`SELECT COUNT(*) FROM public.${t}`), 0),
    indexes: n("SELECT COUNT(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND NOT i.indisprimary"),
    uniques: n("SELECT COUNT(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND i.indisunique AND NOT i.indisprimary"),
    foreignKeys: n("SELECT COUNT(*) FROM pg_constraint k JOIN pg_namespace s ON s.oid = k.connamespace WHERE s.nspname = 'public' AND k.contype = 'f'"),
    checks: n("SELECT COUNT(*) FROM pg_constraint k JOIN pg_namespace s ON s.oid = k.connamespace WHERE s.nspname = 'public' AND k.contype = 'c'"),
    enums: n("SELECT COUNT(*) FROM pg_type t JOIN pg_namespace s ON s.oid = t.typnamespace WHERE s.nspname = 'public' AND t.typtype = 'e'"),
    identities: n("SELECT COUNT(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND c.relkind = 'r' AND (a.attidentity <> '' OR pg_get_serial_sequence(quote_ident(c.relname), a.attname) IS NOT NULL)"),
  }
}

/** A fresh, empty target database before each run (untimed), as both tools then find it. */
function freshTarget(db: string): void {
  psql(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`, 'postgres')
  psql(`CREATE DATABASE ${db}`, 'postgres')
}

function cases(): { path: string; tool: string; db: string; script: string }[] {
  const loadFile = (name: string, body: string) => {
    const file = resolve(outDir, name)
    writeFileSync(file, body)
    return file
  }
  // pgloader with its defaults: create tables, indexes, foreign keys, reset sequences.
  const myLoad = loadFile('sakila-mysql.load', `LOAD DATABASE FROM ${mysqlUrl} INTO ${pgUrl(targets.pgloader)}\n  WITH include drop, create tables, create indexes, foreign keys, reset sequences\n  ALTER SCHEMA '${sourceDb}' RENAME TO 'public';\n`)
  const liteLoad = loadFile('sakila-sqlite.load', `LOAD DATABASE FROM sqlite://${sqliteSource} INTO ${pgUrl(targets.pgloader)}\n  WITH include drop, create tables, create indexes, foreign keys, reset sequences;\n`)
  const ferry = (source: string, extra: string) => `exec bin/ferry.js copy ${sh(source)} ${sh(pgUrl(targets.ferry))} --name bench-sakila --log-level warn ${extra}`
  return [
    { path: 'MySQL→PG', tool: 'pgloader', db: targets.pgloader, script: `pgloader --no-ssl-cert-verification ${sh(myLoad)}` },
    { path: 'MySQL→PG', tool: 'ferry copy', db: targets.ferry, script: ferry(mysqlUrl, '--spatial text') },
    { path: 'SQLite→PG', tool: 'pgloader', db: targets.pgloader, script: `pgloader ${sh(liteLoad)}` },
    { path: 'SQLite→PG', tool: 'ferry copy', db: targets.ferry, script: ferry(`sqlite:${sqliteSource}`, '') },
  ]
}

export async function sakilaBench(runs: number, settle: () => Promise<void>): Promise<SakilaResult[]> {
  ensureSources()
  if (mariadb(`SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${sourceDb}'`) !== '16') {
    mariadb(`DROP DATABASE IF EXISTS ${sourceDb}; CREATE DATABASE ${sourceDb} CHARACTER SET utf8mb4`)
    await loadMysql(mysqlUrl, 1)
  }
  const results: SakilaResult[] = []
  for (const c of cases()) {
    const times: number[] = []
    let made: Created | undefined
    for (let i = 1; i <= runs; i++) {
      freshTarget(c.db)
      rmSync(resolve('.ferry/checkpoints'), { recursive: true, force: true })
      await settle()
      const m = await measure(c.script, resolve(outDir, 'runs', `sakila-${c.path.replace(/\W/g, '')}-${c.tool.replace(/\W/g, '')}-${i}.log`))
      times.push(m.seconds)
      made = created(c.db)
      console.log(`  sakila ${c.path} ${c.tool} run ${i}: ${m.seconds.toFixed(2)} s, ${made.tables} tables, ${made.rows} rows`)
    }
    results.push({ path: c.path, tool: c.tool, seconds: median(times), runs: times, created: made! })
  }
  return results
}

export function sakilaTable(results: readonly SakilaResult[]): string {
  const rows = results.map((r) => {
    const c = r.created
    return `| ${r.path} | ${r.tool} | ${r.seconds.toFixed(2)} | ${r.runs.map((s) => s.toFixed(2)).join(' / ')} | ${c.tables} | ${c.rows.toLocaleString('en-US')} | ${c.indexes} (${c.uniques} unique) | ${c.foreignKeys} | ${c.checks} | ${c.enums} | ${c.identities} |`
  })
  return [
    '| path | tool | seconds (median) | runs (s) | tables | rows | indexes (not PK) | foreign keys | checks | enum types | identity/serial columns |',
    '|---|---|--:|---|--:|--:|--:|--:|--:|--:|--:|',
    ...rows,
  ].join('\n')
}

