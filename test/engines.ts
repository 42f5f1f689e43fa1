import { execFile } from 'node:child_process'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { exec, query } from './helpers.js'
import { mysqlQuery, pgQuery, requireServers, servers } from './servers.js'

/** A target database the issue-10 tests write to and read back with plain SQL, whatever the engine. */
export interface Engine {
  readonly name: 'sqlite' | 'postgres' | 'mysql'
  /** The URL ferry writes to; a SQLite file lives in the test's folder. */
  url(dir: string): string
  /** Runs statements (DDL, inserts) on the engine. */
  run(dir: string, ...statements: string[]): Promise<void>
  /** Runs one query and returns its rows. */
  rows<R = Record<string, unknown>>(dir: string, sql: string): Promise<R[]>
  /** Quotes an identifier. */
  q(name: string): string
}

export const sqlite: Engine = {
  name: 'sqlite',
  url: (dir) => `sqlite:${join(dir, 'target.db')}`,
  run: async (dir, ...statements) => exec(join(dir, 'target.db'), statements.join(';\n')),
  rows: async <R>(dir: string, sql: string) => query<R>(join(dir, 'target.db'), sql),
  q: (name) => `"${name.replaceAll('"', '""')}"`,
}

export const postgres: Engine = {
  name: 'postgres',
  url: () => servers.postgres,
  run: async (_dir, ...statements) => void (await pgQuery(...statements)),
  rows: async <R>(_dir: string, sql: string) => (await pgQuery(sql)) as R[],
  q: (name) => `"${name.replaceAll('"', '""')}"`,
}

export const mysql: Engine = {
  name: 'mysql',
  url: () => servers.mysql,
  run: async (_dir, ...statements) => void (await mysqlQuery(...statements)),
  rows: async <R>(_dir: string, sql: string) => mysqlQuery<R>(sql),
  q: (name) => `\`${name.replaceAll('`', '``')}\``,
}

/** The engines whose servers answer (SQLite always); a missing server registers its skip line. */
export async function availableEngines(): Promise<Engine[]> {
  const engines: Engine[] = [sqlite]
  if (await requireServers('postgres')) engines.push(postgres)
  if (await requireServers('mysql')) engines.push(mysql)
  return engines
}

/** A table-name prefix unique to this test process. */
export function runId(prefix: string): string {
  return `${prefix}_${process.pid.toString(36)}_${Date.now().toString(36)}`
}

const repo = resolve(import.meta.dirname, '..')
const main = join(repo, 'src', 'cli', 'main.ts')

export interface CliOutcome {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the CLI on a pipeline file (a path), in `cwd`, as `npm run pipeline` does. */
export async function runCli(cwd: string, args: string[], env: Record<string, string> = {}): Promise<CliOutcome> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...args], {
      cwd,
      env: { ...process.env, ...env },
      maxBuffer: 64 * 1024 * 1024,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

/** The import path of ferry's public entry point, for pipeline files written by tests. */
export const ferryIndex = join(repo, 'src', 'index.js')
