import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * A PostgreSQL server of a test's own, in a temporary folder on a free port, which the test may
 * stop and start for real (the shared server must not be: other tests run on it meanwhile). Its
 * data is not fsynced: it is thrown away.
 */
export class ScratchPostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly bin: string,
  ) {}

  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`
  }

  /** Why a scratch server cannot be made here (no PostgreSQL binaries, not root nor postgres), or undefined. */
  static unavailable(): string | undefined {
    if (!binDir()) return 'no PostgreSQL server binaries (initdb) under /usr/lib/postgresql'
    if (process.getuid?.() === 0 || process.env.USER === 'postgres') return undefined
    return 'a scratch PostgreSQL server needs root (to run it as `postgres`) or the postgres user'
  }

  /** initdb into a temporary folder, then start. */
  static async create(): Promise<ScratchPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'ferry-scratch-pg-'))
    const server = new ScratchPostgres(dir, await freePort(), binDir()!)
    if (process.getuid?.() === 0) {
      const { stdout } = await run('id', ['-u', 'postgres'])
      const { stdout: gid } = await run('id', ['-g', 'postgres'])
      chownSync(dir, Number(stdout), Number(gid))
    }
    await server.#pg('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync'])
    await server.start()
    return server
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=on`
    await this.#pg('pg_ctl', ['-D', join(this.dir, 'data'), '-o', options, '-l', join(this.dir, 'log'), '-w', 'start'])
  }

  /** A fast shutdown: sessions are terminated (57P01), as a restarting server does. */
  async stop(): Promise<void> {
    await this.#pg('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'fast', '-w', 'stop'])
  }

  async destroy(): Promise<void> {
    await this.stop().catch(() => {})
    rmSync(this.dir, { recursive: true, force: true })
  }

  async #pg(tool: string, args: string[]): Promise<void> {
    const command = join(this.bin, tool)
    // initdb refuses to run as root: the server runs as the postgres user.
    if (process.getuid?.() === 0) await run('runuser', ['-u', 'postgres', '--', command, ...args])
    else await run(command, args)
  }
}

function binDir(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return undefined
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
  return versions[0] && join(root, versions[0], 'bin')
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = net.createServer()
    server.once('error', fail)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => done(port))
    })
  })
}
