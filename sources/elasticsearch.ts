import type { ConnectionOptions } from '../src/endpoint.js'
import { classifyEsError, EsConnection, statusOf } from '../src/engines/elasticsearch/elasticsearch-connection.js'
import { DocumentShape } from '../src/engines/elasticsearch/elasticsearch-documents.js'
import { keyFields, type PageRead, rangePartitions, readPages, readQuery } from '../src/engines/elasticsearch/elasticsearch-read.js'
import { describeIndex, type EsIndex, idField } from '../src/engines/elasticsearch/elasticsearch-schema.js'
import { esSettings, queryOf } from '../src/engines/elasticsearch/elasticsearch-settings.js'
import { ValueError } from '../src/engines/elasticsearch/elasticsearch-values.js'
import { type FailureKind, MissingTableError } from '../src/errors.js'
import type { Filter, Page, ReadSpec, Source, TableRead } from '../src/source.js'
import type { Json, TableSchema } from '../src/types.js'

export function createSource(connection: string | ConnectionOptions): ElasticsearchSource {
  return new ElasticsearchSource(new EsConnection(esSettings(connection)))
}

/**
 * Reads an Elasticsearch index as a table (src/engines/elasticsearch/elasticsearch-read.ts): the
 * columns are the `_source` fields its mapping names (objects as JSON columns), and `_id` for an
 * index ferry did not make; the key is `_id` or keyword and integer fields. Each partition is read
 * in one point in time, in pages by `search_after`; a position is the last hit's sort values.
 * `where` is a query DSL object. The index is refreshed first, so that a point in time sees every
 * acknowledged document (a load runs with refresh off).
 */
export class ElasticsearchSource implements Source {
  readonly engine = 'elasticsearch'
  readonly #connection: EsConnection
  readonly #indexes = new Map<string, Promise<EsIndex>>()

  constructor(connection: EsConnection) {
    this.#connection = connection
  }

  open(): Promise<void> {
    return this.#connection.open()
  }

  /** Described (and refreshed) once per index and connection: every page is read with the same columns. */
  #index(table: string): Promise<EsIndex> {
    let index = this.#indexes.get(table)
    if (!index) {
      index = this.#describe(table)
      index.catch(() => this.#indexes.delete(table))
      this.#indexes.set(table, index)
    }
    return index
  }

  async #describe(table: string): Promise<EsIndex> {
    const found = await describeIndex(this.#connection, table)
    if (!found) throw new MissingTableError(table, `the ${this.#connection.place}`)
    // A user allowed to read but not to refresh reads what the index shows.
    await this.#connection.refresh(table).catch((err: unknown) => {
      if (statusOf(err) !== 403) throw err
    })
    return found
  }

  async describe(table: string): Promise<TableSchema> {
    return (await this.#index(table)).schema
  }

  async count(table: string, filter?: Filter): Promise<number> {
    await this.#index(table)
    const query = queryOf(filter, 'where')
    return (await this.#connection.client.count({ index: table, ...(query && { query }) })).count
  }

  async partitions(read: TableRead, rowsPerPartition?: number): Promise<Json[]> {
    keyFields(await this.#index(read.table), read)
    if (rowsPerPartition === undefined) return [{}]
    return rangePartitions(this.#connection, read, await this.count(read.table, read.filter), rowsPerPartition)
  }

  async hasNullKey(read: TableRead, columns: readonly string[]): Promise<boolean> {
    const fields = columns.filter((c) => c !== idField)
    if (fields.length === 0) return false
    const missing = { bool: { should: fields.map((f) => ({ bool: { must_not: { exists: { field: f } } } })), minimum_should_match: 1 } }
    const query = { bool: { filter: [readQuery(read), missing] } }
    return (await this.#connection.client.count({ index: read.table, query })).count > 0
  }

  async *read(spec: ReadSpec): AsyncGenerator<Page> {
    const index = await this.#index(spec.table)
    keyFields(index, spec)
    const names = spec.columns && new Set([...spec.key, ...spec.columns])
    const columns = names ? index.schema.columns.filter((c) => names.has(c.name)) : index.schema.columns
    const shape = new DocumentShape(spec.table, columns, [], index.fields)
    const read: PageRead = {
      read: spec,
      partition: spec.partition,
      ...(spec.after !== undefined && { after: spec.after }),
      pageSize: spec.pageSize,
      ...(names && { source: [...names].filter((n) => n !== idField) }),
      ties: spec.verifyUnique === true,
    }
    for await (const { hits, position } of readPages(this.#connection, read)) {
      yield { rows: hits.map((h) => shape.row(h, !names)), position }
    }
  }

  classify(err: unknown): FailureKind {
    if (err instanceof ValueError) return 'fatal'
    return classifyEsError(err) === 'transient' ? 'transient' : 'fatal'
  }

  close(): Promise<void> {
    return this.#connection.close()
  }
}
