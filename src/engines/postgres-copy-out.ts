import type pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { tupleToJson } from '../keys.js'
import type { RawPage } from '../raw.js'
import type { RawReader, ReadSpec } from '../source.js'
import type { Row } from '../types.js'
import { copyLineRow, copyTextFormat, Literals, unescapeCopy } from './postgres-copy.js'
import { isConnectionError, type PgConnection, pgTypes } from './postgres.js'
import { keysetSelect, readStart, schemaOf } from './sql/queries.js'

type Parser = (text: string) => unknown

/**
 * PostgreSQL's raw read: one `COPY (SELECT … ORDER BY key) TO STDOUT` per partition, from its
 * position, cut into pages of whole lines. Only the key fields of each page's last line are
 * parsed, for its position, with the parsers of the decoded read, so that both paths' positions
 * are the same JSON.
 */
export class CopyOutReader implements RawReader {
  readonly format = copyTextFormat

  constructor(readonly connection: PgConnection) {}

  async *read(spec: ReadSpec): AsyncGenerator<RawPage> {
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
    const cutter = new LineCutter(spec.pageSize, spec.pageBytes ?? Number.POSITIVE_INFINITY)
    const page = (cut: Cut): RawPage => ({
      ...cut,
      columns,
      position: tupleToJson(keyFields(lastLine(cut.chunks), keyAt, parsers)),
      decode: () => decodeLines(cut.chunks, columns, parsers),
    })
    const stream = client.query(copyTo(`COPY (${select}) TO STDOUT`))
    let finished = false
    try {
      for await (const chunk of stream) {
        for (const cut of cutter.push(chunk as Buffer)) yield page(cut)
      }
      const rest = cutter.end()
      if (rest) yield page(rest)
      finished = true
    } catch (err) {
      failed(conn, err)
    } finally {
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

interface Cut {
  readonly chunks: Buffer[]
  readonly bytes: number
  readonly rows: number
}

/**
 * Cuts COPY text into pages of whole lines: at `pageRows` lines, or once a page holds `pageBytes`
 * bytes. A row's newline is always a line's end (COPY escapes newlines inside values).
 */
export class LineCutter {
  #chunks: Buffer[] = []
  #bytes = 0
  #rows = 0

  constructor(
    readonly pageRows: number,
    readonly pageBytes: number,
  ) {}

  push(buf: Buffer): Cut[] {
    const cuts: Cut[] = []
    let from = 0
    for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, nl + 1)) {
      this.#rows += 1
      if (this.#rows < this.pageRows && this.#bytes + nl + 1 - from < this.pageBytes) continue
      this.#add(buf.subarray(from, nl + 1))
      cuts.push(this.#take())
      from = nl + 1
    }
    if (from < buf.length) this.#add(buf.subarray(from))
    return cuts
  }

  /** The last lines; COPY's text ends with a newline, so nothing is left over. */
  end(): Cut | undefined {
    return this.#rows > 0 ? this.#take() : undefined
  }

  #add(part: Buffer): void {
    this.#chunks.push(part)
    this.#bytes += part.length
  }

  #take(): Cut {
    const cut = { chunks: this.#chunks, bytes: this.#bytes, rows: this.#rows }
    this.#chunks = []
    this.#bytes = 0
    this.#rows = 0
    return cut
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
