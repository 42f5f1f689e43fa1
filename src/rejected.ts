import { createReadStream } from 'node:fs'
import { appendFile, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { createInterface } from 'node:readline'
import { messageOf } from './errors.js'
import { Scrubber } from './scrub.js'

/**
 * Rows the target refused, one JSON line each: `{ table, key, error, row }`, created on the first
 * one. Writes are queued, so that parallel workers refusing rows at the same moment neither race to
 * create the folder nor interleave their lines. The error is scrubbed like a log line; the key and
 * row, which are data, only of the run's secrets.
 */
export class RejectedRows {
  #count = 0
  #queue: Promise<void> = Promise.resolve()

  constructor(
    readonly file: string,
    readonly scrubber = new Scrubber(),
  ) {}

  get count(): number {
    return this.#count
  }

  add(table: string, key: unknown, error: unknown, row: unknown): Promise<void> {
    const first = this.#count++ === 0
    const line = JSON.stringify({ table, key, error: this.scrubber.scrub(messageOf(error)), row }, jsonSafe)
    this.#queue = this.#queue.then(async () => {
      if (first) await mkdir(dirname(this.file), { recursive: true })
      await appendFile(this.file, this.scrubber.known(line) + '\n')
    })
    return this.#queue
  }
}

/** The keys of a table's rows in a rejected-rows file, as written (bigints as text, bytes as hex). */
export async function* rejectedKeys(file: string, table: string): AsyncGenerator<unknown> {
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })
  for await (const line of lines) {
    if (!line.trim()) continue
    const entry = JSON.parse(line) as { table?: string; key: unknown }
    if (entry.table === undefined || entry.table === table) yield entry.key
  }
}

/** JSON for values drivers return: bigints as text, bytes as hex. */
export function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer') {
    return Buffer.from((value as { data: number[] }).data).toString('hex')
  }
  return value
}
