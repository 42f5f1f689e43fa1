import { execFile } from 'node:child_process'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import test from 'ava'
import cassandra from 'cassandra-driver'

const script = join(resolve(import.meta.dirname, '..'), 'scripts', 'cassandra.sh')
const run = promisify(execFile)

/**
 * The test server: CASSANDRA_URL's (`cassandra://host:9042/any`; its keyspace is not used), else
 * the node scripts/cassandra.sh runs on 127.0.0.1:9042. Unlike the other servers, the tests start
 * that one themselves (`cassandra.sh hold`) and it stops once no test file holds it, so that its
 * ~1.1 GB are taken only while Cassandra tests run.
 */
const given = process.env.CASSANDRA_URL
const host = given ? /^cassandra:\/\/(?:[^@/]*@)?([^/?]+)/.exec(given)?.[1] ?? '127.0.0.1:9042' : '127.0.0.1:9042'

let client: cassandra.Client | undefined
const keyspaces: string[] = []

/**
 * True when a Cassandra node answers, started by this call if needed. Otherwise registers one test
 * that says why: under CI it fails, elsewhere it is skipped with how to make the tests able to start it.
 */
export async function requireCassandra(): Promise<boolean> {
  const why = await reach()
  if (why === undefined) {
    test.after.always(async () => {
      for (const keyspace of keyspaces) await cql(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => {})
      await client?.shutdown()
      if (!given) await run('bash', [script, 'release', String(process.pid)]).catch(() => {})
    })
    return true
  }
  const line = `cassandra: ${why}`
  if (process.env.CI) test(line, (t) => t.fail(line))
  else test.skip(line, () => {})
  return false
}

async function reach(): Promise<string | undefined> {
  if (!given) {
    const ready = await run('bash', [script, 'ready']).then(() => true, () => false)
    if (!ready && !process.env.CI) return 'no JDK 17 or no Cassandra jars here; run `bash scripts/cassandra.sh install` (or `npm run servers`) and the tests start it'
    try {
      await run('bash', [script, 'hold', String(process.pid)], { timeout: 600_000 })
    } catch (err) {
      return `scripts/cassandra.sh could not start it: ${(err as { stderr?: string }).stderr?.trim().split('\n').slice(-3).join(' ') ?? String(err)}`
    }
  }
  try {
    client = new cassandra.Client({ contactPoints: [host], localDataCenter: 'datacenter1', encoding: { useBigIntAsLong: true, useBigIntAsVarint: true } })
    await client.connect()
    return undefined
  } catch (err) {
    return `not reachable at ${host} (${String(err)})`
  }
}

/** Runs CQL on the test server; returns the rows. */
export async function cql(statement: string, params: unknown[] = []): Promise<cassandra.types.Row[]> {
  if (!client) throw new Error('cql() before requireCassandra()')
  return (await client.execute(statement, params, { prepare: params.length > 0, fetchSize: 100_000 })).rows
}

/** Drops the keyspace once the file's tests are over (before the client closes). */
export function dropAfter(keyspace: string): void {
  keyspaces.push(keyspace)
}

/** Runs one statement for each list of parameters, 256 at a time (a connection takes 2048 in flight). */
export async function cqlMany(statement: string, params: unknown[][]): Promise<void> {
  for (let i = 0; i < params.length; i += 256) await Promise.all(params.slice(i, i + 256).map((p) => cql(statement, p)))
}

/**
 * A keyspace of a test file's own (SimpleStrategy, one replica), created before its tests and
 * dropped after them; its URL reads and writes at ONE. Declares a `test.serial.before` hook (ava runs hooks at once unless serial), so it is
 * called where tests are declared (ava wants them declared without an await in between).
 */
export function cassandraScratch(name: string): { keyspace: string; url: string } {
  const keyspace = `ferry_${name}_${process.pid.toString(36)}_${Date.now().toString(36)}`.slice(0, 48)
  dropAfter(keyspace)
  test.serial.before(() => cql(`CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`).then(() => {}))
  return { keyspace, url: cassandraUrl(keyspace) }
}

export function cassandraUrl(keyspace: string, params = ''): string {
  return `cassandra://${host}/${keyspace}?consistency=ONE${params}`
}
