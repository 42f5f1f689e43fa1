import type { Collection, Db } from 'mongodb'
import { openSink, openSource } from '../src/engines/registry.js'
import type { Page, ReadSpec, Source, TableRead } from '../src/source.js'
import type { Json, Row } from '../src/types.js'
import { scratchUrl, withMongo } from './servers.js'

/**
 * A database whose collections hold documents of any shape: the driver's default document type
 * has an ObjectId `_id`, and tests write every BSON type there.
 */
export interface AnyDb extends Omit<Db, 'collection'> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  collection(name: string): Collection<any>
}

/** A MongoDB database of a test's own (dropped by `dropNamespaces`), and a way to work in it. */
export interface MongoScratch {
  readonly url: string
  readonly name: string
  /** Runs `use` on the database with a client of its own. */
  db<T>(use: (db: AnyDb) => Promise<T>): Promise<T>
}

export async function mongoScratch(name: string): Promise<MongoScratch> {
  const db = `ferry_${name}_${process.pid.toString(36)}_${Date.now().toString(36)}`.slice(0, 60)
  const url = await scratchUrl('mongodb', db)
  return { url, name: db, db: (use) => withMongo(url, (client) => use(client.db(db) as unknown as AnyDb)) }
}

/** Opens a source, runs `use`, closes it. */
export async function withSource<T>(url: string, use: (source: Source) => Promise<T>): Promise<T> {
  const source = await openSource(url)
  try {
    return await use(source)
  } finally {
    await source.close()
  }
}

export async function withSinkAt<T>(url: string, use: (sink: Awaited<ReturnType<typeof openSink>>) => Promise<T>): Promise<T> {
  const sink = await openSink(url)
  try {
    return await use(sink)
  } finally {
    await sink.close()
  }
}

/** Every page of a read. */
export async function pages(source: Source, spec: ReadSpec): Promise<Page[]> {
  const all: Page[] = []
  for await (const page of source.read(spec)) all.push(page)
  return all
}

/** Every row of every partition of a table, partition by partition. */
export async function readPartitions(
  source: Source,
  read: TableRead,
  partitions: readonly Json[],
  pageSize = 100,
): Promise<Row[][]> {
  const out: Row[][] = []
  for (const partition of partitions) out.push((await pages(source, { ...read, partition, pageSize })).flatMap((p) => p.rows))
  return out
}
