import type { MessagePort } from 'node:worker_threads'
import type BetterSqlite3 from 'better-sqlite3'
import type { Row } from '../types.js'

/** What the main thread asks the read thread, and what it answers. */
export type ReadRequest =
  | { readonly type: 'open'; readonly id: number; readonly sql: string; readonly params: readonly unknown[]; readonly rows: number }
  | { readonly type: 'next'; readonly id: number; readonly rows: number }
  | { readonly type: 'close'; readonly id: number }
export type ReadReply =
  | { readonly id: number; readonly rows: Row[]; readonly done: boolean }
  | { readonly id: number; readonly error: { readonly message: string; readonly code?: string; readonly name: string } }

/**
 * The body of a SQLite file's read thread (sqlite-read-thread.ts), run from its source text: a
 * worker cannot load a TypeScript file when ferry runs from its sources, so the function must
 * reach everything through `load` and its arguments. Each open read has a read-only connection of
 * its own (better-sqlite3 runs one statement at a time on a connection), and its rows go to the
 * main thread a page per request.
 */
export function readThread(load: (id: string) => unknown, port: MessagePort, filename: string, driver: string): void {
  const Database = load(driver) as typeof BetterSqlite3
  const idle: BetterSqlite3.Database[] = []
  const open = new Map<number, { db: BetterSqlite3.Database; rows: IterableIterator<unknown> }>()
  // A binary key crosses the thread as a Uint8Array; better-sqlite3 binds Buffers.
  const asBuffer = (value: unknown): unknown =>
    value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value
  const connection = (): BetterSqlite3.Database => {
    const db = idle.pop() ?? new Database(filename, { readonly: true, fileMustExist: true })
    db.pragma('busy_timeout = 10000')
    return db
  }
  const end = (id: number): void => {
    const read = open.get(id)
    if (!read) return
    open.delete(id)
    read.rows.return?.()
    idle.push(read.db)
  }
  port.on('message', (request: ReadRequest) => {
    if (request.type === 'close') return end(request.id)
    try {
      if (request.type === 'open') {
        const db = connection()
        try {
          open.set(request.id, { db, rows: db.prepare(request.sql).safeIntegers(true).iterate(...request.params.map(asBuffer)) })
        } catch (err) {
          idle.push(db)
          throw err
        }
      }
      const read = open.get(request.id)
      if (!read) return
      const rows: Row[] = []
      let next = read.rows.next()
      while (!next.done) {
        rows.push(next.value as Row)
        if (rows.length >= request.rows) break
        next = read.rows.next()
      }
      const done = next.done === true
      if (done) end(request.id)
      port.postMessage({ id: request.id, rows, done } satisfies ReadReply)
    } catch (err) {
      end(request.id)
      const { message, code } = err as { message: string; code?: string }
      port.postMessage({ id: request.id, error: { message, code, name: (err as Error).name } } satisfies ReadReply)
    }
  })
}
