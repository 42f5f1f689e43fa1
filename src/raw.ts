import { messageOf } from './errors.js'
import type { Json, Row } from './types.js'

/**
 * Rows in an engine's own bulk text (PostgreSQL: COPY text format), read by a source's `RawReader`
 * and written by a sink's `RawWriter` of the same format without being decoded into objects: the raw passthrough. A page is
 * one batch: one transaction, one retry unit, one checkpoint step.
 */
export interface RawPage {
  /** The columns of each line, in order. */
  readonly columns: readonly string[]
  /** The text, whole lines only, in the order read. */
  readonly chunks: readonly Buffer[]
  /** Bytes in `chunks`. */
  readonly bytes: number
  readonly rows: number
  /** The position after the last row, exactly as the source's decoded read would report it. */
  readonly position: Json
  /**
   * The rows decoded as the source's decoded read would hand them over: the fallback for a batch
   * the target refuses, which is then split to find the refused rows.
   */
  decode(): Row[]
}

/** A page's text as a sink's raw write takes it: the chunks may still be arriving. */
export interface RawText {
  readonly columns: readonly string[]
  readonly chunks: AsyncIterable<Buffer> | Iterable<Buffer>
}

/**
 * A raw page handed over when its first line is read, so that the sink writes its text while the
 * rest is read (pages written only once whole made PG → PG 15% slower, BENCHMARKS.md). It may be
 * committed only once whole: a page whose read fails is void, and the read starts again before it.
 * The read keeps pace with whoever takes the text: a consumer must take the text or ask for the
 * whole page, or the read waits.
 */
export interface ReadingPage {
  readonly columns: readonly string[]
  /** The text from the page's start, each chunk as it is read; throws `PageLost` if the read fails first. */
  text(): AsyncIterable<Buffer>
  /** The page once whole; rejects when its read failed. */
  readonly whole: Promise<RawPage>
  /** Its position once whole, undefined before. */
  readonly position: Json | undefined
}

/** The read of a page failed before the page was whole: nothing of it may be committed. */
export class PageLost extends Error {
  constructor(cause: unknown) {
    super(`the read of this page failed: ${messageOf(cause)}`, { cause })
    this.name = 'PageLost'
  }
}

/**
 * A `ReadingPage` its reader fills: `append` each piece of text, then `seal` or `fail` it. It
 * tells its reader (`progress`) when its text is taken or the whole page is asked for, so that
 * the reader keeps pace with the write (`unread`).
 */
export class GrowingPage implements ReadingPage {
  position: Json | undefined
  readonly #whole: Promise<RawPage>
  readonly #chunks: Buffer[] = []
  #bytes = 0
  #taken = 0
  #wanted = false
  #rows = 0
  #sealed = false
  #lost: PageLost | undefined
  readonly #changes = new Changes()
  #resolve!: (page: RawPage) => void
  #reject!: (err: unknown) => void

  constructor(
    readonly columns: readonly string[],
    readonly progress: () => void = () => undefined,
  ) {
    this.#whole = new Promise<RawPage>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    // Nobody may be waiting for a page that is lost: its reader reports the failure.
    this.#whole.catch(() => undefined)
  }

  get whole(): Promise<RawPage> {
    if (!this.#wanted) {
      this.#wanted = true
      this.progress()
    }
    return this.#whole
  }

  /** Bytes read but not yet taken by a write of the text; none once the whole page is asked for. */
  get unread(): number {
    return this.#wanted ? 0 : this.#bytes - this.#taken
  }

  /** The text read so far. */
  get chunks(): readonly Buffer[] {
    return this.#chunks
  }

  async *text(): AsyncGenerator<Buffer> {
    for (let i = 0, taken = 0; ; ) {
      while (i < this.#chunks.length) {
        const chunk = this.#chunks[i++]!
        yield chunk
        taken += chunk.length
        if (taken > this.#taken) {
          this.#taken = taken
          this.progress()
        }
      }
      if (this.#lost) throw this.#lost
      if (this.#sealed) return
      await this.#changes.next
    }
  }

  append(text: Buffer, rows: number): void {
    this.#chunks.push(text)
    this.#bytes += text.length
    this.#rows += rows
    this.#changes.wake()
  }

  /** The page is whole: `position` is its last row's, `decode` turns its text into rows. */
  seal(position: Json, decode: (chunks: readonly Buffer[]) => Row[]): void {
    const chunks = this.#chunks
    this.position = position
    this.#sealed = true
    this.#resolve({ columns: this.columns, chunks, bytes: this.#bytes, rows: this.#rows, position, decode: () => decode(chunks) })
    this.#changes.wake()
  }

  fail(cause: unknown): void {
    if (this.#sealed || this.#lost) return
    this.#lost = new PageLost(cause)
    this.#reject(this.#lost)
    this.#changes.wake()
  }
}

/** What a waiter awaits until the next change: `wake` settles it for everyone waiting. */
export class Changes {
  #next!: Promise<void>
  #notify!: () => void

  constructor() {
    this.#reset()
  }

  get next(): Promise<void> {
    return this.#next
  }

  wake(): void {
    const notify = this.#notify
    this.#reset()
    notify()
  }

  #reset(): void {
    this.#next = new Promise<void>((resolve) => (this.#notify = resolve))
  }
}
