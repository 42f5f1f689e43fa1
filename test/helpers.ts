import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { type PipelineSettings, type ResolvedSettings, resolveSettings } from '../src/config.js'

export function tempDir(prefix = 'ferry-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix))
}

/** Settings that keep a test's checkpoints, logs and reports in its own folder. */
export function testSettings<S extends object, T extends object>(
  dir: string,
  settings: PipelineSettings<S, T>,
  name = 'test',
): ResolvedSettings {
  return resolveSettings(name, {
    checkpointDir: join(dir, 'checkpoints'),
    logDir: join(dir, 'logs'),
    reportDir: join(dir, 'reports'),
    retryDelay: 5,
    progressInterval: 60_000,
    ...(settings as PipelineSettings),
  })
}

/** A SQLite file with `items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER)` holding the given ids. */
export function itemsDb(file: string, ids: Iterable<number>, table = 'items'): string {
  const db = new Database(file)
  db.exec(`CREATE TABLE "${table}" (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER)`)
  const insert = db.prepare(`INSERT INTO "${table}" VALUES (?, ?, ?)`)
  db.transaction(() => {
    for (const id of ids) insert.run(id, `item ${id}`, id % 7 === 0 ? null : id % 100)
  })()
  db.close()
  return `sqlite:${file}`
}

export function query<T = Record<string, unknown>>(file: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(file, { readonly: true })
  try {
    return db.prepare(sql).all(...params) as T[]
  } finally {
    db.close()
  }
}

export function exec(file: string, sql: string): void {
  const db = new Database(file)
  try {
    db.exec(sql)
  } finally {
    db.close()
  }
}

export function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i)
}
