import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { ferryIndex, runCli } from './engines.js'
import { itemsDb, range, tempDir } from './helpers.js'
import { requireServers, servers } from './servers.js'
import { TcpProxy } from './tcp-proxy.js'

// Issue 11, item 4: a server that accepts the connection and never answers (a TCP proxy that
// swallows what it is sent, test/tcp-proxy.ts) must not hang a run or a dry run: ferry gives up
// when the connect timeout passes, with exit 2 naming the database.

/** A pipeline file from SQLite `items` to `target`, or from `source` to a SQLite file. */
function pipelineFile(dir: string, ends: { source?: string; target?: string }): string {
  const file = join(dir, 'silent.ts')
  const source = ends.source ?? itemsDb(join(dir, 'source.db'), range(1, 100))
  const target = ends.target ?? `sqlite:${join(dir, 'target.db')}`
  writeFileSync(
    file,
    `import { definePipeline } from '${ferryIndex}'
export default definePipeline({
  source: ${JSON.stringify(source)}, target: ${JSON.stringify(target)}, sourceTable: 'items',
  checkpointDir: '${join(dir, 'checkpoints')}', logDir: '${join(dir, 'logs')}', reportDir: '${join(dir, 'reports')}',
})
`,
  )
  return file
}

async function silentProxy(url: string, protocol: 'postgres' | 'mysql'): Promise<TcpProxy> {
  const proxy = await TcpProxy.start(url, protocol)
  proxy.silence()
  return proxy
}

const pgReady = await requireServers('postgres')
const mysqlReady = await requireServers('mysql')

if (pgReady) {
  test('a postgres source that never answers fails the run after the default 10 s connect timeout, exit 2 naming it', async (t) => {
    const proxy = await silentProxy(servers.postgres, 'postgres')
    t.teardown(() => proxy.close())
    const dir = tempDir()
    const source = proxy.url(servers.postgres)
    const started = Date.now()
    const out = await runCli(dir, [pipelineFile(dir, { source })])
    const seconds = (Date.now() - started) / 1000
    t.log(`exit ${out.code} after ${seconds.toFixed(1)} s`)
    t.is(out.code, 2, out.stdout + out.stderr)
    t.true(seconds >= 10 && seconds < 25, `${seconds} s`)
    t.true(proxy.accepted >= 1, 'the connection was accepted, then never answered')
    t.regex(out.stdout + out.stderr, new RegExp(`cannot open the source database \`postgres://postgres@127\\.0\\.0\\.1:${proxy.port}/ferry_test\`: the server did not answer within 10 s`))
  })

  test('a postgres target that never answers fails a dry run after `?connect_timeout=2`, exit 2 naming it', async (t) => {
    const proxy = await silentProxy(servers.postgres, 'postgres')
    t.teardown(() => proxy.close())
    const dir = tempDir()
    const target = `${proxy.url(servers.postgres)}?connect_timeout=2`
    const started = Date.now()
    const out = await runCli(dir, [pipelineFile(dir, { target }), '--dry-run'])
    const seconds = (Date.now() - started) / 1000
    t.log(`exit ${out.code} after ${seconds.toFixed(1)} s`)
    t.is(out.code, 2, out.stdout + out.stderr)
    t.true(seconds >= 2 && seconds < 10, `${seconds} s`)
    t.regex(out.stdout + out.stderr, new RegExp(`cannot open the target database \`postgres://postgres@127\\.0\\.0\\.1:${proxy.port}/ferry_test\\?connect_timeout=2\`: the server did not answer within 2 s`))
  })
}

if (mysqlReady) {
  test('a mysql target that never answers fails the run after its 10 s connect timeout, exit 2 naming it', async (t) => {
    const proxy = await silentProxy(servers.mysql, 'mysql')
    t.teardown(() => proxy.close())
    const dir = tempDir()
    const target = proxy.url(servers.mysql)
    const out = await runCli(dir, [pipelineFile(dir, { target })])
    t.is(out.code, 2, out.stdout + out.stderr)
    t.regex(out.stdout + out.stderr, new RegExp(`cannot open the target database \`mysql://root@127\\.0\\.0\\.1:${proxy.port}/ferry_test\`: .*(?:timeout|ETIMEDOUT)`, 'i'))
  })
}
