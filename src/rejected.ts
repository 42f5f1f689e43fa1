import { appendFile, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { messageOf } from './errors.js'
import { Scrubber } from './scrub.js'

/**
 * Rows the target refused, one JSON line each: `{ key, error, row }`. Created on the first one.
 * The error is scrubbed like a log line; the key and row, which are data, only of the run's secrets.
 */
export class RejectedRows {
  #count = 0
  constructor(
    readonly file: string,
    readonly scrubber = new Scrubber(),
  ) {}

  get count(): number {
    return this.#count
  }

  async add(key: unknown, error: unknown, row: unknown): Promise<void> {
    if (this.#count++ === 0) await mkdir(dirname(this.file), { recursive: true })
    const line = JSON.stringify({ key, error: this.scrubber.scrub(messageOf(error)), row }, jsonSafe)
    await appendFile(this.file, this.scrubber.known(line) + '\n')
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
