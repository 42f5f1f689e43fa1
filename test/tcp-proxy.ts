import net from 'node:net'

/** Which protocol the proxy reads client messages of, to recognise a COMMIT (CQL has none: its bytes are not read). */
export type WireProtocol = 'postgres' | 'mysql' | 'cassandra'

/**
 * A TCP proxy between ferry and a real server, for injecting network faults for real: cut every
 * connection, refuse connections for a while (a server that is down: ECONNREFUSED), accept
 * connections and never answer, or let a COMMIT reach the server and lose its reply. Everything
 * else is forwarded byte for byte.
 */
export class TcpProxy {
  readonly #pairs = new Set<Pair>()
  #server?: net.Server
  #port = 0
  #silent = false
  /** COMMITs still to pass before the one whose reply is dropped; undefined: none is dropped. */
  #commitsBeforeDrop: number | undefined
  #onDropped?: () => void
  /** COMMIT messages seen from clients, and replies dropped. */
  commits = 0
  dropped = 0
  /** Connections accepted. */
  accepted = 0

  private constructor(
    readonly target: { host: string; port: number },
    readonly protocol: WireProtocol,
  ) {}

  /** A proxy in front of the server of `url` (its host and port), listening on a free port. */
  static async start(url: string, protocol: WireProtocol): Promise<TcpProxy> {
    const u = new URL(url)
    const proxy = new TcpProxy({ host: u.hostname, port: Number(u.port) || defaultPorts[protocol] }, protocol)
    await proxy.#listen(0)
    return proxy
  }

  get port(): number {
    return this.#port
  }

  /** `url` pointed at the proxy instead of its server. */
  url(url: string): string {
    const u = new URL(url)
    u.hostname = '127.0.0.1'
    u.port = String(this.#port)
    return u.toString()
  }

  /** Cuts every open connection, both ways, as a dropped network would. */
  cutAll(): void {
    for (const pair of this.#pairs) pair.cut()
  }

  /**
   * The server is down for `ms`: open connections are cut and new ones refused (the port is
   * closed), then it is back. Resolves when it is back.
   */
  async down(ms: number): Promise<void> {
    const server = this.#server!
    this.#server = undefined
    await new Promise<void>((done) => {
      server.close(() => done())
      this.cutAll()
    })
    await new Promise((done) => setTimeout(done, ms))
    await this.#listen(this.#port)
  }

  /** From now on, connections are accepted and never answered: what they send is swallowed. */
  silence(): void {
    this.#silent = true
  }

  /**
   * The `nth` COMMIT from now is forwarded to the server, and its reply is dropped: the connection
   * is cut as soon as the reply arrives, so the transaction committed and the client never knows.
   * Resolves when it happened.
   */
  dropCommitReply(nth = 1): Promise<void> {
    this.#commitsBeforeDrop = nth - 1
    return new Promise((done) => (this.#onDropped = done))
  }

  async close(): Promise<void> {
    this.cutAll()
    const server = this.#server
    this.#server = undefined
    if (server) await new Promise<void>((done) => server.close(() => done()))
  }

  async #listen(port: number): Promise<void> {
    // The port may be taken for an instant by an outgoing connection: try again shortly.
    for (let attempt = 0; ; attempt++) {
      try {
        const server = net.createServer((socket) => this.#accept(socket))
        await new Promise<void>((done, fail) => {
          server.once('error', fail)
          server.listen(port, '127.0.0.1', () => done())
        })
        this.#server = server
        this.#port = (server.address() as net.AddressInfo).port
        return
      } catch (err) {
        if (attempt >= 50 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
        await new Promise((done) => setTimeout(done, 100))
      }
    }
  }

  #accept(client: net.Socket): void {
    this.accepted += 1
    client.on('error', () => {})
    if (this.#silent) {
      const pair: Pair = { cut: () => client.destroy() }
      this.#pairs.add(pair)
      client.on('close', () => this.#pairs.delete(pair))
      client.resume()
      return
    }
    const server = net.connect(this.target.port, this.target.host)
    server.on('error', () => {})
    let dropReply = false
    const pair: Pair = {
      cut: () => {
        client.destroy()
        server.destroy()
      },
    }
    this.#pairs.add(pair)
    const reader = this.protocol === 'postgres' ? new PgMessages() : this.protocol === 'mysql' ? new MysqlPackets() : noMessages
    client.on('data', (data: Buffer) => {
      const commits = reader.push(data)
      if (!server.write(data)) client.pause()
      for (let i = 0; i < commits; i++) {
        this.commits += 1
        if (this.#commitsBeforeDrop === undefined) continue
        if (this.#commitsBeforeDrop-- === 0) {
          this.#commitsBeforeDrop = undefined
          dropReply = true
        }
      }
    })
    server.on('drain', () => client.resume())
    server.on('data', (data: Buffer) => {
      if (dropReply) {
        // The COMMIT's reply: the server has committed; the client never hears of it.
        this.dropped += 1
        pair.cut()
        this.#onDropped?.()
        return
      }
      if (!client.write(data)) server.pause()
    })
    client.on('drain', () => server.resume())
    const gone = () => {
      pair.cut()
      this.#pairs.delete(pair)
    }
    client.on('close', gone)
    server.on('close', gone)
  }
}

const defaultPorts: Record<WireProtocol, number> = { postgres: 5432, mysql: 3306, cassandra: 9042 }

interface Pair {
  cut(): void
}

/** Frames a client's byte stream into messages; `push` returns how many were a plain COMMIT. */
interface MessageReader {
  push(data: Buffer): number
}

const noMessages: MessageReader = { push: () => 0 }

const isCommit = (sql: string) => /^\s*commit\s*;?\s*$/i.test(sql)

/**
 * PostgreSQL frontend messages (https://www.postgresql.org/docs/current/protocol-message-formats.html):
 * untyped ones (length first) until the startup message, then a type byte and a length. A COMMIT
 * is the simple-query message `Q` holding `COMMIT`.
 */
class PgMessages implements MessageReader {
  #buffer = Buffer.alloc(0)
  #startup = true

  push(data: Buffer): number {
    this.#buffer = Buffer.concat([this.#buffer, data])
    let commits = 0
    for (;;) {
      if (this.#startup) {
        if (this.#buffer.length < 8) return commits
        const length = this.#buffer.readInt32BE(0)
        if (this.#buffer.length < length) return commits
        const code = this.#buffer.readInt32BE(4)
        // SSLRequest and GSSENCRequest are followed by another untyped message.
        if (code !== 80877103 && code !== 80877104) this.#startup = false
        this.#buffer = this.#buffer.subarray(length)
        continue
      }
      if (this.#buffer.length < 5) return commits
      const length = this.#buffer.readInt32BE(1)
      if (this.#buffer.length < 1 + length) return commits
      if (this.#buffer[0] === 0x51 && isCommit(this.#buffer.subarray(5, 1 + length).toString('utf8').replace(/\0$/, ''))) commits += 1
      this.#buffer = this.#buffer.subarray(1 + length)
    }
  }
}

/**
 * MySQL client packets (https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_basic_packets.html):
 * a 3-byte length, a sequence number, the payload. A COMMIT is COM_QUERY (0x03) holding `COMMIT`.
 */
class MysqlPackets implements MessageReader {
  #buffer = Buffer.alloc(0)

  push(data: Buffer): number {
    this.#buffer = Buffer.concat([this.#buffer, data])
    let commits = 0
    for (;;) {
      if (this.#buffer.length < 4) return commits
      const length = this.#buffer.readUIntLE(0, 3)
      if (this.#buffer.length < 4 + length) return commits
      const payload = this.#buffer.subarray(4, 4 + length)
      if (payload[0] === 0x03 && isCommit(payload.subarray(1).toString('utf8'))) commits += 1
      this.#buffer = this.#buffer.subarray(4 + length)
    }
  }
}
