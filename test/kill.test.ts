import { basename, join } from 'node:path'
import test from 'ava'
import { random } from '../src/demo.js'
import { itemsDb, query, range, tempDir } from './helpers.js'
import { finalStatus, killAndResume } from './kill-helpers.js'
import { dropNamespaces, mysqlQueryAt, pgQueryAt, requireServers, scratchUrl, type ServerName } from './servers.js'

interface Target {
  readonly name: string
  url(dir: string): Promise<string>
  /** Row count, distinct keys, and rows whose name the transform upper-cased. */
  counts(dir: string): Promise<{ n: number; d: number; upper: number }>
}

const countsSql = 'SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d, SUM(CASE WHEN name = UPPER(name) THEN 1 ELSE 0 END) AS upper FROM items_copy'
const numbers = (row: Record<string, unknown> | undefined) => ({ n: Number(row?.n), d: Number(row?.d), upper: Number(row?.upper) })

const sqliteTarget: Target = {
  name: 'sqlite',
  url: async (dir) => `sqlite:${join(dir, 'target.db')}`,
  counts: async (dir) => numbers(query(join(dir, 'target.db'), countsSql)[0]),
}

function serverTarget(server: ServerName): Target {
  let url: string
  return {
    name: server,
    url: async (dir) => (url = await scratchUrl(server, `ferry_kill_${basename(dir).replace(/\W/g, '').toLowerCase()}`)),
    counts: async () => {
      const run = server === 'postgres' ? pgQueryAt : mysqlQueryAt
      return numbers((await run(url, countsSql))[0])
    },
  }
}

/**
 * Kills a 200k-row migration several times — at random moments, halfway through a batch write and
 * halfway through a checkpoint write — resuming after each; the end state must equal the source.
 */
function killTest(strategy: 'chunked' | 'parallel' | 'streaming', target: Target) {
  test(`${target.name} ${strategy}: SIGKILL at random moments, mid-write and mid-checkpoint, then resume`, async (t) => {
    const dir = tempDir()
    const sourceFile = join(dir, 'source.db')
    const next = random(strategy.length + target.name.length)
    // Gaps in the keys, so that chunks and key ranges differ.
    const ids = range(1, 200_000).map((i) => i * 3 + (i > 150_000 ? 1_000_000 : 0))
    const env = { SOURCE_URL: itemsDb(sourceFile, ids), TARGET_URL: await target.url(dir), STRATEGY: strategy, WORK_DIR: dir }
    const kills = [
      { fault: 'sink-write:37' },
      { afterMs: 1200 + Math.floor(next() * 1400) },
      { fault: 'checkpoint-write:4' },
      { afterMs: 1200 + Math.floor(next() * 1400) },
    ]
    const last = await killAndResume(t, env, kills)
    t.regex(last.output, /validation \(checksum\): source 200000, expected 200000, target 200000: passed/)
    t.deepEqual(await target.counts(dir), { n: 200_000, d: 200_000, upper: 200_000 })
    t.is(finalStatus(t, dir), 'SUCCESS')
  })
}

// Asked before any test is declared: ava wants every declaration in one go.
const withServers = await requireServers('postgres', 'mysql')

for (const strategy of ['chunked', 'parallel', 'streaming'] as const) killTest(strategy, sqliteTarget)

if (withServers) {
  killTest('chunked', serverTarget('postgres'))
  killTest('parallel', serverTarget('mysql'))
  test.after.always(dropNamespaces)
}
