import { once } from 'node:events'
import { createWriteStream, existsSync, renameSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Case } from './cases.js'
import { dataDir, run, sh, sourceTable } from './config.js'
import { generatorVersion, users, type UserRow } from './generate.js'

/**
 * Redis for the bench: Debian's redis-server of `npm run servers`. The source keys live in one
 * database, ferry's and the reference's targets in another, emptied before each run (untimed).
 */
export const redisBench = {
  host: process.env.BENCH_REDIS_HOST ?? '127.0.0.1',
  port: process.env.BENCH_REDIS_PORT ?? '6379',
  sourceDb: 8,
  targetDb: 9,
}

const url = (db: number): string => `redis://${redisBench.host}:${redisBench.port}/${db}`
const cli = (db: number, ...args: string[]): string =>
  run('redis-cli', ['-h', redisBench.host, '-p', redisBench.port, '-n', String(db), ...args]).trim()
const cliCmd = (db: number): string => `redis-cli -h ${sh(redisBench.host)} -p ${sh(redisBench.port)} -n ${db}`

export const redisVersion = (): string => /redis_version:(\S+)/.exec(cli(0, 'INFO', 'server'))?.[1] ?? 'unknown'

/** Keys in the target database that are rows (ferry's schema record left out). */
function targetRows(): number {
  return Number(cli(redisBench.targetDb, 'DBSIZE')) - Number(cli(redisBench.targetDb, 'EXISTS', `ferry:schema:${ferryPattern}`))
}

const emptyTarget = (): void => void cli(redisBench.targetDb, 'FLUSHDB')

const fields = ['id', 'first_name', 'last_name', 'email', 'status', 'score', 'active', 'created_at', 'bio'] as const

/** One row as RESP: `HSET <prefix><id> field value …`, the fields ferry writes (a NULL bio left out). */
function hsetCommand(prefix: string, r: UserRow): string {
  const values = [String(r[0]), r[1], r[2], r[3], r[4], r[5], r[6] ? 'true' : 'false', r[7], r[8]]
  const args = ['HSET', `${prefix}${r[0]}`]
  values.forEach((v, i) => v !== null && args.push(fields[i]!, v))
  let out = `*${args.length}\r\n`
  for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`
  return out
}

/** The rows as Redis protocol for `redis-cli --pipe`, written once per size and kept. */
export async function protocolFile(rows: number, prefix: string): Promise<string> {
  const file = resolve(dataDir, `users-${rows}-v${generatorVersion}.resp`)
  if (existsSync(file)) return file
  const temp = `${file}.tmp`
  const out = createWriteStream(temp)
  let chunk = ''
  let n = 0
  for (const row of users(rows)) {
    chunk += hsetCommand(prefix, row)
    if (++n % 10_000 === 0) {
      if (!out.write(chunk)) await once(out, 'drain')
      chunk = ''
    }
  }
  out.end(chunk)
  await once(out, 'finish')
  renameSync(temp, file)
  return file
}

const keyPrefix = (rows: number): string => `${sourceTable(rows)}:`
const ferryPattern = 'users_ferry:{id}'

/**
 * The protocol file the references pipe; with `source`, the source database too, holding the rows
 * as hashes (loaded by `redis-cli --pipe`, marked with a version key).
 */
export async function ensureRedis(rows: number, source: boolean, log = console.log): Promise<void> {
  const file = await protocolFile(rows, keyPrefix(rows))
  const marker = `bench:meta:${sourceTable(rows)}`
  if (!source || cli(redisBench.sourceDb, 'GET', marker) === String(generatorVersion)) return
  run('bash', ['-o', 'pipefail', '-c', `${cliCmd(redisBench.sourceDb)} FLUSHDB >/dev/null && ${cliCmd(redisBench.sourceDb)} --pipe < ${sh(file)}`])
  cli(redisBench.sourceDb, 'SET', marker, String(generatorVersion))
  log(`  redis database ${redisBench.sourceDb} loaded with ${rows} hashes`)
}

/** Whether the Redis server answers. */
export function redisUp(): boolean {
  try {
    return cli(0, 'PING') === 'PONG'
  } catch {
    return false
  }
}

/**
 * PG → Redis and Redis → Redis: ferry (the bench pipeline) beside `redis-cli --pipe` of the same
 * rows as generated protocol, the fastest way into Redis there is. The reference neither reads a
 * database nor encodes anything while timed: it is the floor of loading Redis, not a rival tool.
 */
export function redisCases(rows: number, ferryCase: (from: 'postgres' | 'redis', strategy: string) => Case): Case[] {
  const reference = (from: 'postgres' | 'redis'): Case => ({
    id: `ref:${from === 'postgres' ? 'pg' : 'redis'}-redis:redis-cli-pipe`,
    path: { from, to: 'redis' },
    tool: 'redis-cli --pipe (generated protocol)',
    strategy: '—',
    reference: true,
    script: `${cliCmd(redisBench.targetDb)} --pipe < ${sh(resolve(dataDir, `users-${rows}-v${generatorVersion}.resp`))}`,
    needsDialects: [],
    prepare: emptyTarget,
    rowsWritten: targetRows,
  })
  return [
    reference('postgres'),
    ...['streaming', 'chunked', 'parallel'].map((s) => ferryCase('postgres', s)),
    reference('redis'),
    // One partition per server: chunked and parallel read it as streaming does.
    ferryCase('redis', 'streaming'),
  ]
}

/** The environment of a ferry case into Redis, and how to check and reset its target. */
export const redisTarget = {
  url: url(redisBench.targetDb),
  table: ferryPattern,
  prepare: emptyTarget,
  rowsWritten: targetRows,
}

export const redisSource = (rows: number) => ({ url: url(redisBench.sourceDb), table: `${keyPrefix(rows)}{id}` })
