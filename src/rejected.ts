import { createReadStream } from 'node:fs'
import { appendFile, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { createInterface } from 'node:readline'
import { messageOf } from './errors.js'

/**
 * Rows the target refused, one JSON line each: `{ table, key, error, row }`, created on the first
 * one. Writes are queued, so that parallel workers refusing rows at the same moment neither race to
 * create the folder nor interleave their lines.
 */
export class RejectedRows {
  #count = 0
  #queue: Promise<void> = Promise.resolve()

  constructor(readonly file: string) {}

  get count(): number {
    return this.#count
  }

  add(table: string, key: unknown, error: unknown, row: unknown): Promise<void> {
    const first = this.#count++ === 0
    const line = JSON.stringify({ table, key, error: messageOf(error), row }, jsonSafe) + '\n'
    this.#queue = this.#queue.then(async () => {
      if (first) await mkdir(dirname(this.file), { recursive: true })
      await appendFile(this.file, line)
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
