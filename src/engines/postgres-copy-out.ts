import type pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { tupleToJson } from '../keys.js'
import { Changes, GrowingPage, type ReadingPage } from '../raw.js'
import type { RawReader, ReadSpec } from '../source.js'
import type { Row } from '../types.js'
import { copyLineRow, copyTextFormat, Literals, unescapeCopy } from './postgres-copy.js'
import { isConnectionError, type PgConnection, pgTypes } from './postgres.js'
import { keysetSelect, readStart, schemaOf } from './sql/queries.js'

type Parser = (text: string) => unknown

/**
 * PostgreSQL's raw read: one `COPY (SELECT … ORDER BY key) TO STDOUT` per partition, from its
 * position, cut into pages of whole lines. A page is handed over at its first line and filled as
 * the text comes (`ReadingPage`), the read staying within `readAhead` of the write. Only the key
 * fields of each page's last line are parsed, for its position, with the parsers of the decoded
 * read, so that both paths' positions are the same JSON.
 */
export class CopyOutReader implements RawReader {
  readonly format = copyTextFormat

  constructor(readonly connection: PgConnection) {}

  async *read(spec: ReadSpec): AsyncGenerator<ReadingPage> {
    const conn = this.connection
    const schema = await schemaOf(conn, spec.table)
    const select = keysetSelect(conn, schema, spec, readStart(spec), false, new Literals(conn.spelling))
    const client = await conn.client()
    // The SELECT alone first, as one statement through the extended protocol: a filter cannot
    // smuggle a statement of its own into the COPY (simple protocol), and its fields' types say
    // how to parse the text.
    const query = { text: `${select} LIMIT 0`, queryMode: 'extended', types: pgTypes } as pg.QueryConfig
    const { fields } = await client.query(query).catch((err: unknown) => failed(conn, err))
    const columns = fields.map((f) => f.name)
    const parsers = fields.map((f) => pgTypes.getTypeParser(f.dataTypeID, 'text') as Parser)
    const keyAt = spec.key.map((k) => columns.indexOf(k))
    const seal = (page: GrowingPage): void =>
      page.seal(tupleToJson(keyFields(lastLine(page.chunks), keyAt, parsers)), (chunks) => decodeLines(chunks, columns, parsers))
    const stream = client.query(copyTo(`COPY (${select}) TO STDOUT`))
    const pages = new PagePump(stream, new LineCutter(spec.pageSize, spec.pageBytes ?? Number.POSITIVE_INFINITY), (progress) => new GrowingPage(columns, progress), seal)
    let finished = false
    try {
      for (let page = await pages.next(); page; page = await pages.next()) yield page
      finished = true
    } catch (err) {
      failed(conn, err)
    } finally {
      pages.stop()
      // Abandoned mid-COPY, the session is still sending rows: it is cut off, and reopened by the next read.
      if (!finished && !conn.broken) abandon(conn, client)
    }
  }
}

function failed(conn: PgConnection, err: unknown): never {
  if (isConnectionError(err)) conn.markBroken()
  throw err
}

function abandon(conn: PgConnection, client: pg.Client): void {
  conn.markBroken()
  ;(client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy()
}

/**
 * Text read but not yet written, at most: the read keeps pace with the write instead of running a
 * page ahead. A page read whole before its write made PG → PG 15% slower (BENCHMARKS.md): the two
 * servers then take turns at full speed instead of running side by side.
 */
const readAhead = 1 << 20

/**
 * Reads the COPY text into pages, on its own: the page being written fills while the sink
 * writes it, at most `readAhead` bytes ahead of the write (but for a page whose whole is asked
 * for, as a retry does). Page n + 1 is started only once page n was asked for (`next`), which
 * the pipeline does when it takes page n to write; until then the COPY waits.
 */
class PagePump {
  readonly #pages: GrowingPage[] = []
  #unwritten: GrowingPage[] = []
  #asked = 0
  #made = 0
  #ended = false
  #error: unknown
  #stopped = false
  #live: GrowingPage | undefined
  readonly #changes = new Changes()

  constructor(
    stream: AsyncIterable<unknown>,
    readonly cutter: LineCutter,
    readonly newPage: (progress: () => void) => GrowingPage,
    readonly seal: (page: GrowingPage) => void,
  ) {
    void this.#run(stream)
  }

  /** The next page, as soon as it has begun; undefined after the last; throws the read's failure. */
  async next(): Promise<GrowingPage | undefined> {
    this.#asked += 1
    this.#changes.wake()
    for (;;) {
      const page = this.#pages.shift()
      if (page) return page
      if (this.#error !== undefined) throw this.#error
      if (this.#ended || this.#stopped) return undefined
      await this.#changes.next
    }
  }

  /** The reader was abandoned: the page being read is lost, and reading stops. */
  stop(): void {
    this.#stopped = true
    this.#live?.fail(new Error('the read was abandoned'))
    this.#changes.wake()
  }

  async #run(stream: AsyncIterable<unknown>): Promise<void> {
    try {
      for await (const chunk of stream) {
        for (const piece of this.cutter.push(chunk as Buffer)) {
          const page = this.#live ?? (await this.#begin())
          while (this.#ahead() > readAhead && !this.#stopped) await this.#changes.next
          page.append(piece.text, piece.rows)
          if (piece.ends) {
            this.seal(page)
            this.#live = undefined
          }
        }
        if (this.#stopped) throw new Error('the read was abandoned')
      }
      // COPY's text ends with a newline, so the page still open holds whole lines: the last page.
      if (this.#live) this.seal(this.#live)
      this.#ended = true
    } catch (err) {
      this.#live?.fail(err)
      this.#error = err
    }
    this.#live = undefined
    this.#changes.wake()
  }

  /** A new page, once the one before it was asked for. */
  async #begin(): Promise<GrowingPage> {
    while (this.#made >= this.#asked && !this.#stopped) await this.#changes.next
    if (this.#stopped) throw new Error('the read was abandoned')
    const page = (this.#live = this.newPage(() => this.#changes.wake()))
    this.#unwritten.push(page)
    this.#made += 1
    this.#pages.push(page)
    this.#changes.wake()
    return page
  }

  /** Bytes read and not yet written, over the pages still being written. */
  #ahead(): number {
    this.#unwritten = this.#unwritten.filter((p) => p === this.#live || p.unread > 0)
    return this.#unwritten.reduce((n, p) => n + p.unread, 0)
  }
}

/** A piece of COPY text within one page; `ends` when the page ends with it. */
interface Piece {
  readonly text: Buffer
  readonly rows: number
  readonly ends: boolean
}

/**
 * Cuts COPY text into pages of whole lines: a page ends at `pageRows` lines, or once it holds
 * `pageBytes` bytes. A row's newline is always a line's end (COPY escapes newlines inside values).
 */
export class LineCutter {
  #bytes = 0
  #rows = 0

  constructor(
    readonly pageRows: number,
    readonly pageBytes: number,
  ) {}

  push(buf: Buffer): Piece[] {
    const pieces: Piece[] = []
    let from = 0
    let rows = 0
    for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, nl + 1)) {
      rows += 1
      if (this.#rows + rows < this.pageRows && this.#bytes + nl + 1 - from < this.pageBytes) continue
      pieces.push({ text: buf.subarray(from, nl + 1), rows, ends: true })
      this.#rows = 0
      this.#bytes = 0
      rows = 0
      from = nl + 1
    }
    if (from < buf.length) {
      pieces.push({ text: buf.subarray(from), rows, ends: false })
      this.#rows += rows
      this.#bytes += buf.length - from
    }
    return pieces
  }
}

/** The last line of whole lines, without its newline. */
function lastLine(chunks: readonly Buffer[]): string {
  const tail: Buffer[] = []
  for (let i = chunks.length - 1; i >= 0; i--) {
    const chunk = chunks[i]!
    const end = i === chunks.length - 1 ? chunk.length - 1 : chunk.length
    const nl = end > 0 ? chunk.lastIndexOf(10, end - 1) : -1
    tail.unshift(chunk.subarray(nl + 1, end))
    if (nl !== -1) break
  }
  return Buffer.concat(tail).toString('utf8')
}

function keyFields(line: string, keyAt: readonly number[], parsers: readonly Parser[]): unknown[] {
  const fields = line.split('\t')
  return keyAt.map((i) => {
    const text = unescapeCopy(fields[i]!)
    return text === null ? null : parsers[i]!(text)
  })
}

function decodeLines(chunks: readonly Buffer[], columns: readonly string[], parsers: readonly Parser[]): Row[] {
  const lines = Buffer.concat(chunks).toString('utf8').split('\n')
  lines.pop()
  return lines.map((line) => copyLineRow(line, columns, parsers))
}
