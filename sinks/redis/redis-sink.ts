import type { ConnectionOptions } from '../../src/endpoint.js'
import { classifyRedisError, countKeys, RedisConnection, scanKeys } from '../../src/engines/redis/redis-connection.js'
import { keyPattern } from '../../src/engines/redis/redis-pattern.js'
import { keyRow, rawValue, type RawValue, readRows, redisTypeOf } from '../../src/engines/redis/redis-read.js'
import { readRecord, recordKey, recordText, type RedisTable, type Storage, tableOf } from '../../src/engines/redis/redis-schema.js'
import { redisSettings } from '../../src/engines/redis/redis-settings.js'
import { keyPartText } from '../../src/engines/redis/redis-values.js'
import { ConfigError, type FailureKind, MissingTableError, SinkWriteError } from '../../src/errors.js'
import type { PreparePlan, Sink, WriteKind, WriteTarget } from '../../src/sink.js'
import type { ColumnInfo, KeyTuple, Row, TableSchema } from '../../src/types.js'
import { checkRows } from '../../src/values.js'
import { redisCommand } from './redis-command.js'
import { encodeRows, formatOf, insert, upsert } from './redis-write.js'

export function createSink(connection: string | ConnectionOptions): RedisSink {
  return new RedisSink(new RedisConnection(redisSettings(connection)))
}

const storages: readonly string[] = ['hash', 'json', 'string', 'list', 'set', 'zset']

/**
 * Writes each row as one Redis value at the key its key pattern makes (`targetTable:
 * 'user:{user_id}'`): a hash of fields (default) or a JSON string (`?valueFormat=json`), with an
 * optional TTL (`?ttl=3600`, seconds). The table ferry creates is a schema record
 * (`ferry:schema:<pattern>`) naming the columns and their logical types, which readers decode by.
 * Rows from a Redis source without a transform carry their DUMP and are restored as they were.
 *
 * Durability is the server's: Redis acknowledges writes from memory, and keeps them through its own
 * crash only as its `appendonly`/`appendfsync` settings say (see the README).
 */
export class RedisSink implements Sink {
  readonly engine = 'redis'
  readonly #connection: RedisConnection
  readonly #tables = new Map<string, RedisTable>()

  constructor(connection: RedisConnection) {
    this.#connection = connection
  }

  open(): Promise<void> {
    return this.#connection.open()
  }

  async describe(table: string): Promise<TableSchema | undefined> {
    const found = await readRecord(await this.#connection.client(), keyPattern(table))
    if (found) this.#tables.set(table, found)
    return found?.schema
  }

  /** The placeholders are the target key's columns; the format agrees with how the rows are stored. */
  checkTarget(target: TableSchema): void {
    const pattern = keyPattern(target.table, 'targetTable')
    const list = (names: readonly string[]) => names.map((n) => `\`${n}\``).join(', ')
    const key = [...target.primaryKey].sort().join('\0')
    if ([...pattern.columns].sort().join('\0') !== key) {
      throw new ConfigError(
        `key pattern \`${pattern.text}\` is made of ${list(pattern.columns)}, but the target key is ${list(target.primaryKey)}: name the pattern's {columns} after the target key, or set \`targetKey\` to ${JSON.stringify(pattern.columns.length === 1 ? pattern.columns[0] : pattern.columns)}`,
      )
    }
    for (const name of pattern.columns) {
      const column = target.columns.find((c) => c.name === name)
      if (!column) throw new ConfigError(`key pattern \`${pattern.text}\`: the rows have no column \`${name}\``)
      if (column.type === 'json') throw new ConfigError(`key pattern \`${pattern.text}\`: column \`${name}\` holds JSON, which cannot be part of a key`)
    }
    const wanted = this.#connection.settings.valueFormat
    if (wanted !== undefined && target.storage !== undefined && target.storage !== wanted) {
      const why = this.#tables.get(target.table)?.schema === target
        ? `its keys hold ${target.storage} values (its schema record says so); use writeMode 'recreate' to store them otherwise`
        : `rows copied from Redis without a transform are restored as they were (${target.storage}); add a transform to store them as ${wanted}`
      throw new ConfigError(`setting \`valueFormat=${wanted}\` for \`${pattern.text}\`: ${why}`)
    }
  }

  async prepare(plan: PreparePlan): Promise<TableSchema> {
    this.checkTarget(plan.schema)
    const redis = await this.#connection.client()
    const pattern = keyPattern(plan.table)
    const existing = await readRecord(redis, pattern)
    if (plan.mode === 'recreate' || plan.mode === 'truncate') {
      // Every key the glob matches: `user:*` takes `user:1:sessions` along.
      for await (const { keys } of scanKeys(redis, pattern, '0', 1000)) if (keys.length) await redis.unlink(...keys)
    }
    let table = plan.mode === 'recreate' ? undefined : existing
    if (!table) {
      const storage = this.#connection.settings.valueFormat ?? (storages.includes(plan.schema.storage ?? '') ? (plan.schema.storage as Storage) : 'hash')
      table = tableOf(pattern, plan.schema.columns, storage, true)
      await redis.set(recordKey(pattern.text), recordText(table))
    }
    this.#tables.set(plan.table, table)
    return table.schema
  }

  async #table(name: string): Promise<RedisTable> {
    const cached = this.#tables.get(name)
    if (cached) return cached
    if (!(await this.describe(name))) throw new MissingTableError(name, `the ${this.#connection.place} (no schema record \`${recordKey(name)}\`)`)
    return this.#tables.get(name)!
  }

  async write(target: WriteTarget, rows: readonly Row[], kind: WriteKind): Promise<void> {
    const table = await this.#table(target.table)
    const format = formatOf(table, rows, kind)
    if (format === 'raw') checkRaw(table, rows)
    else {
      checkWhole(table, target)
      // Values a declared type would refuse elsewhere (decimal digits, sub-microsecond times) are refused here too.
      checkRows(target, rows)
    }
    const ttl = this.#connection.settings.ttl
    const encoded = encodeRows(table, target, rows, format, ttl === undefined ? undefined : ttl * 1000)
    const redis = await this.#connection.client()
    await (kind === 'insert' ? insert : upsert)(redis, encoded, format, ttl === undefined ? undefined : ttl * 1000)
  }

  async count(table: string): Promise<number> {
    return countKeys(await this.#connection.client(), keyPattern(table))
  }

  /** Values read back by key, in pipelines, decoded as a Redis source reads them. */
  async lookup(target: WriteTarget, keys: readonly KeyTuple[]): Promise<Row[]> {
    const table = await this.#table(target.table)
    const redis = await this.#connection.client()
    const columns = new Map(table.schema.columns.map((c) => [c.name, c]))
    const names = keys.flatMap((tuple) => {
      const texts = table.pattern.columns.map((name) => keyPartText(tuple[target.key.indexOf(name)], columns.get(name)!))
      const key = table.pattern.build(texts)
      return key === undefined ? [] : [key]
    })
    if (!target.columns.every((c) => table.pattern.columns.includes(c.name))) return readRows(redis, table, names)
    const found = ((await names.reduce((p, key) => p.exists(key), redis.pipeline()).exec()) ?? []).map(([err, n]) => {
      if (err) throw err
      return n === 1
    })
    return names.filter((_, i) => found[i]).map((key) => keyRow(table, key))
  }

  /** One Redis command for `before`/`after` steps: `ctx.sql('BGSAVE')`, `ctx.sql('SET "a key" 1')`. */
  async execute(statement: string): Promise<void> {
    const [command, ...args] = redisCommand(statement)
    await (await this.#connection.client()).call(command!, ...args)
  }

  nativeType(column: ColumnInfo): string {
    return `${this.#connection.settings.valueFormat === 'json' ? 'JSON' : 'hash'} field (${column.type})`
  }

  classify(err: unknown): FailureKind {
    return classifyRedisError(err)
  }

  close(): Promise<void> {
    return this.#connection.close()
  }
}

/** A JSON string is replaced whole: rows that carry only some columns would drop the others. */
function checkWhole(table: RedisTable, target: WriteTarget): void {
  if (table.schema.storage !== 'json') return
  const missing = table.schema.columns.filter((c) => !target.columns.some((w) => w.name === c.name)).map((c) => `\`${c.name}\``)
  if (missing.length === 0) return
  throw new SinkWriteError(
    `\`${table.pattern.text}\` stores each row as one JSON string, which a write replaces whole: rows without ${missing.join(', ')} would drop them; write every column, or store hashes (valueFormat=hash)`,
    'fatal',
  )
}

/** A restored value must be of the type the target's keys hold. */
function checkRaw(table: RedisTable, rows: readonly Row[]): void {
  const want = redisTypeOf(table.schema.storage)
  for (const row of rows) {
    const raw = (row as Record<symbol, RawValue>)[rawValue]!
    if (raw.type !== want) {
      throw new SinkWriteError(`\`${table.pattern.text}\` holds ${table.schema.storage} values; a copied ${raw.type} cannot join them: copy into another pattern, or recreate this one`, 'fatal')
    }
  }
}
