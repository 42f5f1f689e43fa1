import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { Client } from '@elastic/elasticsearch'
import test from 'ava'
import { messageOf } from '../src/errors.js'
import { runId } from './engines.js'

/**
 * The Elasticsearch of the tests: ES_URL (`elasticsearch://host:9200`), else the one
 * scripts/elasticsearch.sh runs on 127.0.0.1:9200, which each test file starts when it needs it
 * and stops when it is done (a lease per test process: the server stops after the last, unless
 * `npm run servers` or a developer started it for good). FERRY_ES_START=0 never starts it.
 */
export const esUrl = process.env.ES_URL ?? 'elasticsearch://127.0.0.1:9200'
const script = resolve(import.meta.dirname, '..', 'scripts', 'elasticsearch.sh')

/** The node's HTTP address, for a client of the test's own. */
export const esNode = esUrl.replace(/^elasticsearch\+https:/, 'https:').replace(/^elasticsearch:/, 'http:')

async function lease(command: 'start' | 'stop'): Promise<void> {
  await promisify(execFile)('bash', [script, command, '--lease', String(process.pid)], { timeout: 300_000 })
}

async function reachable(): Promise<string | undefined> {
  const client = new Client({ node: esNode, requestTimeout: 5000, maxRetries: 0 })
  try {
    await client.cluster.health({ wait_for_status: 'yellow', timeout: '5s' })
    return undefined
  } catch (err) {
    return messageOf(err)
  } finally {
    await client.close()
  }
}

/**
 * True when Elasticsearch answers, after starting it under a lease if the URL is the script's;
 * after the file's tests, the indexes named `<prefix>…` are deleted and the lease ends.
 * Otherwise registers one test that says why: failed under CI, skipped elsewhere.
 */
export async function requireElasticsearch(prefix: string): Promise<boolean> {
  let why: string | undefined
  const leased = process.env.ES_URL === undefined && process.env.FERRY_ES_START !== '0'
  if (leased) {
    try {
      await lease('start')
    } catch (err) {
      why = `scripts/elasticsearch.sh start failed: ${(err as { stderr?: string }).stderr?.trim() || messageOf(err)}`
    }
  }
  why ??= await reachable()
  test.after.always('drop the test indexes, stop elasticsearch unless another test process holds it', async () => {
    if (why === undefined) await dropIndexes(prefix)
    if (leased) await lease('stop')
  })
  if (why === undefined) return true
  const line = `elasticsearch not reachable at ${esUrl} (${why.slice(0, 500)})`
  if (process.env.CI) test(line, (t) => t.fail(line))
  else test.skip(line, () => {})
  return false
}

/** A client of the test's own; close it with `close()`. */
export function esClient(): Client {
  return new Client({ node: esNode, maxRetries: 0 })
}

/** Index names of a test file's own (lowercase, as Elasticsearch wants them). */
export function indexPrefix(name: string): string {
  return runId(`ferry_${name}`).toLowerCase()
}

async function dropIndexes(prefix: string): Promise<void> {
  const client = esClient()
  try {
    await client.indices.delete({ index: `${prefix}*`, ignore_unavailable: true, allow_no_indices: true })
  } finally {
    await client.close()
  }
}
