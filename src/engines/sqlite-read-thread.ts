import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { type ReadReply, type ReadRequest, readThread } from './sqlite-read-worker.js'
import type { Row } from '../types.js'

// The thread runs `readThread`'s source as an eval'd worker, CommonJS and with no node options
// (`--input-type=module` would make it a module), so that it has `require`. `__name` is the helper
// that tsx's compiled code (the tests run ferry under it) calls to keep function names.
const threadSource = `var __name = (f) => f;
const { parentPort, workerData } = require('node:worker_threads');
(${readThread.toString()})(require, parentPort, workerData.filename, workerData.driver)`
const driver = createRequire(import.meta.url).resolve('better-sqlite3')

/**
 * A SQLite source's reads on a thread of their own: better-sqlite3 steps the statement and builds
 * each row synchronously, so on the main thread a read could never overlap the sink's write.
 * Here the thread reads the next page while the pipeline writes this one (src/pipeline.ts reads
 * ahead); the main thread only receives the rows (about a quarter of the CPU of reading them).
 * One thread a file, shared by
 * the source connections of a run (the parallel strategy's workers): a thread is a V8 isolate of
 * its own (~30 MB), and more threads than cores buy nothing. It starts at the first read and ends
 * when the last connection using it closes.
 */
export class SqliteReadThread {
  static readonly #shared = new Map<string, { worker: Worker; users: number }>()
  static #lastId = 0
  #worker?: Worker

  constructor(readonly filename: string) {}

  async *read(sql: string, params: readonly unknown[], pageRows: () => number): AsyncGenerator<Row[]> {
    const worker = (this.#worker ??= this.#join())
    const id = ++SqliteReadThread.#lastId
    const replies = new Replies(worker, id)
    let done = false
    try {
      worker.postMessage({ type: 'open', id, sql, params, rows: pageRows() } satisfies ReadRequest)
      while (!done) {
        const reply = await replies.next()
        if ('error' in reply) throw Object.assign(new Error(reply.error.message), reply.error)
        done = reply.done
        if (reply.rows.length) yield reply.rows.map(withBuffers)
        // Asked when the reader wants the next page, which the pipeline's read-ahead does while it
        // writes this one; and asked only now, so that the size follows what this page measured.
        if (!done) worker.postMessage({ type: 'next', id, rows: pageRows() } satisfies ReadRequest)
      }
    } finally {
      replies.stop()
      if (!done) worker.postMessage({ type: 'close', id } satisfies ReadRequest)
    }
  }

  #join(): Worker {
    const shared = SqliteReadThread.#shared.get(this.filename) ?? {
      worker: new Worker(threadSource, { eval: true, execArgv: [], workerData: { filename: this.filename, driver } }),
      users: 0,
    }
    shared.users += 1
    SqliteReadThread.#shared.set(this.filename, shared)
    return shared.worker
  }

  async close(): Promise<void> {
    if (!this.#worker) return
    this.#worker = undefined
    const shared = SqliteReadThread.#shared.get(this.filename)!
    if (--shared.users > 0) return
    SqliteReadThread.#shared.delete(this.filename)
    await shared.worker.terminate()
  }
}

/** The replies to one read, in order; a thread that dies fails the read. */
class Replies {
  #queue: ReadReply[] = []
  #waiting?: { resolve: (reply: ReadReply) => void; reject: (err: Error) => void }
  #failed?: Error
  readonly #onMessage = (reply: ReadReply) => {
    if (reply.id !== this.id) return
    if (this.#waiting) this.#waiting.resolve(reply)
    else this.#queue.push(reply)
    this.#waiting = undefined
  }
  readonly #onError = (err: Error) => {
    this.#failed = err
    this.#waiting?.reject(err)
    this.#waiting = undefined
  }
  readonly #onExit = () => this.#onError(new Error('the SQLite read thread exited'))

  constructor(
    readonly worker: Worker,
    readonly id: number,
  ) {
    worker.on('message', this.#onMessage)
    worker.on('error', this.#onError)
    worker.on('exit', this.#onExit)
  }

  next(): Promise<ReadReply> {
    const queued = this.#queue.shift()
    if (queued) return Promise.resolve(queued)
    if (this.#failed) return Promise.reject(this.#failed)
    return new Promise((resolve, reject) => (this.#waiting = { resolve, reject }))
  }

  stop(): void {
    this.worker.off('message', this.#onMessage)
    this.worker.off('error', this.#onError)
    this.worker.off('exit', this.#onExit)
  }
}

/** A BLOB crosses the thread as a Uint8Array; the rows of every other read hold Buffers. */
function withBuffers(row: Row): Row {
  for (const name in row) {
    const value = row[name]
    if (value instanceof Uint8Array && !Buffer.isBuffer(value)) row[name] = Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  }
  return row
}
