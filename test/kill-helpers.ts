import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import type { ExecutionContext } from 'ava'
import Database from 'better-sqlite3'
import { mysqlQueryAt, pgQueryAt, scratchUrl } from './servers.js'

const repo = resolve(import.meta.dirname, '..')
const main = join(repo, 'src', 'cli', 'main.ts')
const pipeline = join(repo, 'test', 'fixtures', 'kill-pipeline.ts')

export interface Outcome {
  code: number | null
  signal: NodeJS.Signals | null
  output: string
}

/**
 * Runs the kill pipeline (test/fixtures/kill-pipeline.ts) as `npm run pipeline` would, with its
 * settings in `env`; kills it with SIGKILL after `kill` milliseconds, or when `kill` aborts, when given.
 */
export function runChild(env: Record<string, string>, args: string[] = [], kill?: number | AbortSignal): Promise<Outcome> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), main, pipeline, ...args], { env: { ...process.env, ...env } })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    const timer = typeof kill === 'number' ? setTimeout(() => child.kill('SIGKILL'), kill) : undefined
    kill = typeof kill === 'number' ? undefined : kill
    kill?.addEventListener('abort', () => child.kill('SIGKILL'), { once: true })
    child.on('error', fail)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      done({ code, signal, output })
    })
  })
}

export type Engine = 'sqlite' | 'postgres' | 'mysql'

/** A database of a test's own: a SQLite file in its folder, or a scratch schema or database. */
export interface TestDb {
  readonly engine: Engine
  readonly url: string
  /** Runs statements; returns the last one's rows. */
  sql(...statements: string[]): Promise<Record<string, unknown>[]>
}

export async function testDb(engine: Engine, dir: string, name: string): Promise<TestDb> {
  if (engine === 'sqlite') {
    const file = join(dir, `${name}.db`)
    return {
      engine,
      url: `sqlite:${file}`,
      sql: async (...statements) => {
        const db = new Database(file)
        try {
          let rows: Record<string, unknown>[] = []
          for (const s of statements) {
            const stmt = db.prepare(s)
            rows = stmt.reader ? (stmt.all() as Record<string, unknown>[]) : (stmt.run(), [])
          }
          return rows
        } finally {
          db.close()
        }
      },
    }
  }
  const url = await scratchUrl(engine, `ferry_${name}_${basename(dir).replace(/\W/g, '').toLowerCase()}`)
  const run = engine === 'postgres' ? pgQueryAt : mysqlQueryAt
  return { engine, url, sql: (...statements) => run(url, ...statements) }
}

export type Kill = { fault: string } | { afterMs: number }

/**
 * Starts the run, kills it as each of `kills` says (a crash point, or a timer), resumes after each
 * kill, and returns the last, unkilled run. Every killed run must have died by SIGKILL, and every
 * resumed one must say where it resumed.
 */
export async function killAndResume(t: ExecutionContext, env: Record<string, string>, kills: readonly Kill[]): Promise<Outcome> {
  let first = true
  for (const kill of kills) {
    const fault: Record<string, string> = 'fault' in kill ? { FERRY_FAULT: kill.fault } : {}
    const outcome = await runChild({ ...env, ...fault }, first ? [] : ['--resume'], 'afterMs' in kill ? kill.afterMs : undefined)
    t.log(`${JSON.stringify(kill)} → ${outcome.signal ?? `exit ${outcome.code}`}`)
    if ('fault' in kill) t.is(outcome.signal, 'SIGKILL', outcome.output)
    if (!first && 'fault' in kill) t.regex(outcome.output, /resuming from .*chunks done/)
    first = false
  }
  const last = await runChild(env, ['--resume'])
  t.is(last.code, 0, last.output)
  t.regex(last.output, /resuming from|no checkpoint/)
  return last
}

/** The newest report's status, and that the finished run left no checkpoint behind. */
export function finalStatus(t: ExecutionContext, dir: string): string {
  t.deepEqual(readdirSync(join(dir, 'checkpoints')), [], 'a finished run removes its checkpoint and plan')
  const reports = readdirSync(join(dir, 'reports')).filter((f) => f.endsWith('.json'))
  const final = JSON.parse(readFileSync(join(dir, 'reports', reports.sort().at(-1)!), 'utf8')) as { summary: { status: string } }
  return final.summary.status
}
