import { BSON, type Document, type WriteConcern } from 'mongodb'
import type { ConnectionOptions } from '../../src/endpoint.js'
import { MongoConnection, mongoConfig } from '../../src/engines/mongodb/mongodb-connection.js'
import { classifyMongoError } from '../../src/engines/mongodb/mongodb-errors.js'
import { bsonTypeName, describeCollection } from '../../src/engines/mongodb/mongodb-schema.js'
import { type EncodeOptions, readOptions } from '../../src/engines/mongodb/mongodb-values.js'
import { ConfigError, type FailureKind, messageOf } from '../../src/errors.js'
import { keyText } from '../../src/keys.js'
import type { PreparePlan, Sink, SinkOptions, WriteKind, WriteTarget } from '../../src/sink.js'
import type { ColumnInfo, KeyTuple, Row, TableSchema } from '../../src/types.js'
import { checkRows } from '../../src/values.js'
import { DocumentShape } from './mongodb-documents.js'
import { insertDocuments, Upserter, type Writer } from './mongodb-write.js'

export function createSink(connection: string | ConnectionOptions, options: SinkOptions = {}): MongoSink {
  return new MongoSink(mongoConfig(connection), options)
}

/**
 * Writes rows as documents of a MongoDB collection: the target key is `_id`, the other columns
 * top-level fields typed as their logical type says (src/engines/mongodb/mongodb-values.ts).
 * Inserts are unordered `insertMany`; upserts `$set` only the fields the rows carry. A batch some
 * documents of which the server refuses leaves nothing behind (mongodb-write.ts), so that the core
 * splits it to the refused rows as for a transaction. With `durableCommits`, writes wait for the
 * journal (`j: true`).
 */
export class MongoSink implements Sink {
  readonly engine = 'mongodb'
  readonly documents = true
  readonly #connection: MongoConnection
  readonly #writeConcern?: WriteConcern
  readonly #upserter = new Upserter()
  #shape?: DocumentShape

  constructor(config: ConstructorParameters<typeof MongoConnection>[0], options: SinkOptions) {
    this.#connection = new MongoConnection(config)
    if (options.durableCommits) this.#writeConcern = { journal: true }
  }

  async open(): Promise<void> {
    await this.#connection.open()
    try {
      // A decimals setting the server cannot honour is refused before anything is written.
      void this.#connection.decimals
    } catch (err) {
      await this.#connection.close()
      throw err
    }
  }

  async prepare(plan: PreparePlan): Promise<TableSchema> {
    new DocumentShape({ table: plan.table, columns: plan.schema.columns, key: plan.schema.primaryKey })
    const db = this.#connection.db
    if (plan.mode === 'recreate') await db.collection(plan.table).drop().catch(ignoreCode(26))
    if (!(await this.#connection.kind(plan.table))) await db.createCollection(plan.table).catch(ignoreCode(48))
    else if (plan.mode === 'truncate') await db.collection(plan.table).deleteMany({})
    return plan.schema
  }

  describe(table: string): Promise<TableSchema | undefined> {
    return describeCollection(this.#connection, table)
  }

  async write(target: WriteTarget, rows: readonly Row[], kind: WriteKind): Promise<void> {
    // Text UTF-8 cannot encode would be written as U+FFFD by the driver: refused first.
    checkRows(target, rows)
    const shape = this.#shapeOf(target)
    const docs = shape.documents(rows, this.#encoding)
    const writer: Writer = {
      collection: this.#connection.collection(target.table),
      ...(this.#writeConcern && { writeConcern: this.#writeConcern }),
      name: (doc) => `the document with _id ${keyText(shape.key(doc))}`,
    }
    if (kind === 'insert') await insertDocuments(writer, docs)
    else await this.#upserter.write(writer, docs)
  }

  #shapeOf(target: WriteTarget): DocumentShape {
    if (this.#shape?.target !== target) this.#shape = new DocumentShape(target)
    return this.#shape
  }

  get #encoding(): EncodeOptions {
    const s = this.#connection.config.settings
    return { decimals: this.#connection.decimals, subMillisecond: s.subMillisecond, refuseNaN: this.#connection.traits.ferretdb }
  }

  /** Documents under a filter given as (Extended) JSON text, e.g. `targetWhere: '{"status": "active"}'`. */
  async count(table: string, filter?: string): Promise<number> {
    return this.#connection.collection(table).countDocuments(filter === undefined ? {} : parseJson(filter, 'targetWhere'))
  }

  /**
   * Documents by `_id`: `$in` lists of 1000 keys; on FerretDB, whose `$in` reads the whole
   * collection, one equality lookup per key (its `_id` index serves strings, ObjectIds and
   * integers), 64 at a time.
   */
  async lookup(target: WriteTarget, keys: readonly KeyTuple[]): Promise<Row[]> {
    const shape = this.#shapeOf(target)
    const ids = keys.flatMap((k) => {
      try {
        return [shape.id(k, this.#encoding)]
      } catch {
        // A key no document can have (one the sink refuses): not found.
        return []
      }
    })
    const collection = this.#connection.collection(target.table)
    const projection = Object.fromEntries(target.columns.map((c) => [c.name, 1]))
    const find = (filter: Document) => collection.find(filter, { ...readOptions, projection }).toArray()
    const perKey = this.#connection.traits.ferretdb && ids.every(indexedByFerretDb)
    const found: Document[] = []
    for (let i = 0; i < ids.length; i += perKey ? 64 : 1000) {
      const group = ids.slice(i, i + (perKey ? 64 : 1000))
      if (perKey) for (const docs of await Promise.all(group.map((id) => find({ _id: id })))) found.push(...docs)
      else found.push(...(await find({ _id: { $in: group } })))
    }
    return found.map((doc) => shape.row(doc, target.columns))
  }

  /** Every key of the collection under the filter, from `_id`, to name target rows no source row accounts for. */
  async *keys(target: WriteTarget, pageSize: number, filter?: string): AsyncGenerator<KeyTuple[]> {
    const shape = this.#shapeOf(target)
    const query = filter === undefined ? {} : parseJson(filter, 'targetWhere')
    const cursor = this.#connection.collection(target.table).find(query, { ...readOptions, projection: { _id: 1 }, batchSize: pageSize })
    try {
      let page: KeyTuple[] = []
      for await (const doc of cursor) {
        page.push(shape.key(doc))
        if (page.length < pageSize) continue
        yield page
        page = []
      }
      if (page.length) yield page
    } finally {
      await cursor.close().catch(() => {})
    }
  }

  /** Runs a database command given as (Extended) JSON text, for `before`/`after` steps. */
  async execute(statement: string): Promise<void> {
    await this.#connection.db.command(parseJson(statement, 'the step'))
  }

  nativeType(column: ColumnInfo): string {
    return bsonTypeName(column, this.#connection.decimals)
  }

  classify(err: unknown): FailureKind {
    return classifyMongoError(err)
  }

  close(): Promise<void> {
    return this.#connection.close()
  }
}

/** Whether FerretDB (as `scripts/mongo.sh` builds it) finds this `_id` through its index. */
function indexedByFerretDb(id: unknown): boolean {
  const type = (id as { _bsontype?: string } | null)?._bsontype
  return typeof id === 'string' || type === 'ObjectId' || type === 'Int32' || type === 'Long'
}

function parseJson(text: string, what: string): Document {
  try {
    return BSON.EJSON.parse(text, { relaxed: true }) as Document
  } catch (err) {
    throw new ConfigError(`${what} for a mongodb target is a JSON document (a query or a database command), not ${JSON.stringify(text)}: ${messageOf(err)}`)
  }
}

/** Lets an error with this server code pass (the collection is already dropped, already there). */
function ignoreCode(code: number) {
  return (err: unknown) => {
    if ((err as { code?: unknown }).code !== code) throw err
  }
}
