import { setTimeout as sleep } from 'node:timers/promises'
import type { Document } from 'mongodb'
import type { ConnectionOptions } from '../src/endpoint.js'
import { MongoConnection, mongoConfig } from '../src/engines/mongodb/mongodb-connection.js'
import { classifyMongoError } from '../src/engines/mongodb/mongodb-errors.js'
import { both, filterDocument, partitionsFrom, PositionTracker, rangeFilter } from '../src/engines/mongodb/mongodb-ranges.js'
import { describeCollection } from '../src/engines/mongodb/mongodb-schema.js'
import { fromBson, readOptions } from '../src/engines/mongodb/mongodb-values.js'
import { ConfigError, type FailureKind, KeyError, MissingTableError } from '../src/errors.js'
import type { Filter, Page, ReadSpec, Source, TableRead } from '../src/source.js'
import type { ColumnInfo, Json, Row, TableSchema } from '../src/types.js'

export function createSource(connection: string | ConnectionOptions): MongoSource {
  return new MongoSource(mongoConfig(connection))
}

// Server codes of an aggregation stage it does not have: NotImplemented (FerretDB), unrecognized stage.
const missingStage = new Set([238, 40324])

/**
 * Reads a MongoDB collection as a table: one key field (`_id`, or a field with a unique index),
 * partitions and positions in the server's own order of that field (src/engines/mongodb/mongodb-ranges.ts),
 * each partition one sorted cursor, documents turned into rows of the fields the schema sample
 * found. A document with a field the sample did not show stops the read, naming both: a column
 * is never dropped silently.
 */
export class MongoSource implements Source {
  readonly engine = 'mongodb'
  readonly #connection: MongoConnection
  readonly #schemas = new Map<string, Promise<TableSchema>>()
  /** Whether the server has `$sample`; learned from the first attempt. */
  #sampling = true

  constructor(config: ConstructorParameters<typeof MongoConnection>[0]) {
    this.#connection = new MongoConnection(config)
  }

  open(): Promise<void> {
    return this.#connection.open()
  }

  /** Inferred once per table and connection, so that every page is read with the same columns. */
  describe(table: string): Promise<TableSchema> {
    let schema = this.#schemas.get(table)
    if (!schema) {
      schema = describeCollection(this.#connection, table).then((found) => {
        if (!found) throw new MissingTableError(table, this.#connection.place)
        return found
      })
      schema.catch(() => this.#schemas.delete(table))
      this.#schemas.set(table, schema)
    }
    return schema
  }

  async count(table: string, filter?: Filter): Promise<number> {
    return this.#connection.collection(table).countDocuments(filterDocument(filter))
  }

  async partitions(read: TableRead, rowsPerPartition?: number): Promise<Json[]> {
    const key = keyField(read)
    if (rowsPerPartition === undefined) return [{}]
    return partitionsFrom(await this.#splitPoints(read, key, rowsPerPartition))
  }

  /**
   * Keys that cut the rows into runs of about `every`, in the server's order: from a sorted
   * `$sample` where the server has it (one pass, no sort of the whole collection), else every
   * `every`-th key of one `_id`-only sorted cursor (FerretDB has no `$sample`).
   */
  async #splitPoints(read: TableRead, key: string, every: number): Promise<unknown[]> {
    const collection = this.#connection.collection(read.table)
    const filter = filterDocument(read.filter)
    const parts = Math.ceil((await collection.countDocuments(filter)) / every)
    if (parts <= 1) return []
    if (this.#sampling) {
      try {
        // Many keys per partition, so that the cut points fall near even shares.
        const pipeline: Document[] = [...(Object.keys(filter).length ? [{ $match: filter }] : []), { $sample: { size: parts * 32 } }, { $project: { [key]: 1 } }, { $sort: { [key]: 1 } }]
        const keys = (await collection.aggregate(pipeline, { ...readOptions, allowDiskUse: true }).toArray()).map((d) => d[key] as unknown)
        return Array.from({ length: Math.min(parts, keys.length) - 1 }, (_, i) => keys[Math.floor(((i + 1) * keys.length) / parts)])
      } catch (err) {
        if (!missingStage.has((err as { code?: number }).code ?? 0)) throw err
        this.#sampling = false
      }
    }
    const points: unknown[] = []
    let n = 0
    const cursor = collection.find(filter, { ...readOptions, projection: { [key]: 1 }, sort: { [key]: 1 }, batchSize: 10_000 })
    for await (const doc of cursor) if (++n % every === 0) points.push(doc[key])
    return points
  }

  async hasNullKey(read: TableRead, columns: readonly string[]): Promise<boolean> {
    if (columns.length === 0) return false
    const nulls = { $or: columns.map((c) => ({ [c]: null })) }
    return (await this.#connection.collection(read.table).findOne(both(filterDocument(read.filter), nulls), { projection: { _id: 1 } })) !== null
  }

  /**
   * One sorted cursor over the partition from the position, in pages. A cursor the server lost
   * (expired while the sink was slow, or its connection dropped) is opened again from the last
   * page's position, three times at most.
   */
  async *read(spec: ReadSpec): AsyncGenerator<Page> {
    const key = keyField(spec)
    const schema = await this.describe(spec.table)
    const names = spec.columns && new Set([key, ...spec.columns])
    const columns = names ? schema.columns.filter((c) => names.has(c.name)) : schema.columns
    const known = names ? undefined : new Set(schema.columns.map((c) => c.name))
    const tracker = new PositionTracker(spec.partition, spec.after)
    const filter = filterDocument(spec.filter)
    let position = spec.after
    for (let lost = 0; ; ) {
      const cursor = this.#connection.collection(spec.table).find(both(filter, rangeFilter(key, spec.partition, position)), {
        ...readOptions,
        sort: { [key]: 1 },
        batchSize: spec.pageSize,
        ...(names && { projection: Object.fromEntries([...names].map((n) => [n, 1])) }),
      })
      try {
        let rows: Row[] = []
        let keys: unknown[] = []
        for await (const doc of cursor) {
          rows.push(toRow(doc, columns, known, spec.table))
          keys.push(doc[key])
          if (rows.length < spec.pageSize) continue
          position = tracker.after(keys)
          lost = 0
          yield { rows, position }
          rows = []
          keys = []
        }
        if (rows.length) yield { rows, position: tracker.after(keys) }
        return
      } catch (err) {
        if (this.classify(err) !== 'transient' || ++lost > 3) throw err
        await sleep(500 * lost)
      } finally {
        await cursor.close().catch(() => {})
      }
    }
  }

  /** What a failed read calls for: `transient` when reading again may work, else `fatal`. */
  classify(err: unknown): FailureKind {
    return classifyMongoError(err) === 'transient' ? 'transient' : 'fatal'
  }

  close(): Promise<void> {
    return this.#connection.close()
  }
}

/** The one key field a MongoDB read goes by. */
function keyField(read: TableRead): string {
  if (read.key.length !== 1) {
    throw new KeyError(
      `source collection \`${read.table}\`: the mongodb source reads by one key field (\`_id\`, or a field with a unique index), not (${read.key.map((k) => `\`${k}\``).join(', ')})`,
    )
  }
  return read.key[0]!
}

function toRow(doc: Document, columns: readonly ColumnInfo[], known: ReadonlySet<string> | undefined, table: string): Row {
  if (known) {
    for (const name in doc) {
      if (!known.has(name)) {
        throw new ConfigError(
          `collection \`${table}\`: the document with _id ${JSON.stringify(fromBson(doc._id, { type: 'json' }))} has field \`${name}\`, which the documents sampled to infer the columns did not have; raise \`sampleSize\` in the source URL (0 samples every document), or leave the field out with a view`,
        )
      }
    }
  }
  const row: Row = {}
  for (const c of columns) row[c.name] = fromBson(doc[c.name], c)
  return row
}
