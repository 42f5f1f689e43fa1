import type { ConnectionOptions } from '../../src/endpoint.js'
import { classifyEsError, EsConnection } from '../../src/engines/elasticsearch/elasticsearch-connection.js'
import { DocumentShape, type Hit } from '../../src/engines/elasticsearch/elasticsearch-documents.js'
import { describeIndex, type EsIndex, fieldFor, fieldText, idField, mappingFor } from '../../src/engines/elasticsearch/elasticsearch-schema.js'
import { checkIndexName, esSettings, queryOf } from '../../src/engines/elasticsearch/elasticsearch-settings.js'
import { ValueError } from '../../src/engines/elasticsearch/elasticsearch-values.js'
import { ConfigError, type FailureKind, MissingTableError } from '../../src/errors.js'
import { keyOf } from '../../src/keys.js'
import type { PreparePlan, Sink, SinkOptions, WriteKind, WriteResult, WriteTarget } from '../../src/sink.js'
import type { ColumnInfo, KeyTuple, Row, TableSchema } from '../../src/types.js'
import { refusedRows } from '../../src/values.js'
import { writeBulk } from './elasticsearch-bulk.js'
import { runRequest } from './elasticsearch-request.js'
import { refreshOff } from './elasticsearch-refresh.js'

export function createSink(connection: string | ConnectionOptions, options: SinkOptions = {}): ElasticsearchSink {
  return new ElasticsearchSink(new EsConnection(esSettings(connection)), options)
}

// Key columns become keyword or integer fields, whose sort is exact (a source reads by them).
const keyTypes = new Set(['integer', 'bigint', 'text', 'uuid', 'decimal', 'date', 'timestamp', 'timestamptz'])

/**
 * Writes rows as documents of an Elasticsearch index through `_bulk`
 * (sinks/elasticsearch/elasticsearch-bulk.ts), each with its target key as `_id`. An index it
 * creates gets an explicit mapping from the rows' types (src/engines/elasticsearch/elasticsearch-schema.ts).
 * The documents a bulk refuses are reported one by one (`WriteResult`): no batch is split. Refresh
 * is off while a run loads (`loadSettings`). Commits are as durable as the index's translog
 * (`index.translog.durability: request`, the default, syncs it before a bulk is acknowledged).
 */
export class ElasticsearchSink implements Sink {
  readonly engine = 'elasticsearch'
  readonly #connection: EsConnection
  readonly #readOnly: boolean
  readonly #indexes = new Map<string, EsIndex>()
  #shape?: { target: WriteTarget; shape: DocumentShape }
  /** The key of the table last checked, which its key columns' mapping depends on (dry runs). */
  #key: readonly string[] = []

  constructor(connection: EsConnection, options: SinkOptions) {
    this.#connection = connection
    this.#readOnly = options.readOnly === true
  }

  open(): Promise<void> {
    return this.#connection.open()
  }

  async describe(table: string): Promise<TableSchema | undefined> {
    const found = await describeIndex(this.#connection, table)
    if (found) this.#indexes.set(table, found)
    else this.#indexes.delete(table)
    return found?.schema
  }

  /**
   * For an index ferry creates: names Elasticsearch takes as top-level fields, key columns it can
   * sort by, no geometry. An existing index is written as it is.
   */
  checkTarget(target: TableSchema): void {
    checkIndexName(target.table, 'targetTable')
    this.#key = target.primaryKey
    if (this.#indexes.get(target.table)?.schema === target) return
    for (const c of target.columns) {
      const key = target.primaryKey.includes(c.name)
      if (c.name === idField ? !(key && target.primaryKey.length === 1) : c.name === '' || c.name.includes('.') || c.name.startsWith('_')) {
        throw new ConfigError(
          `target \`${target.table}\`: column \`${c.name}\` cannot be an Elasticsearch field as ferry writes it (no \`.\`, no leading \`_\`; \`_id\` only as the whole target key); rename it in a transform`,
        )
      }
      if (key && !keyTypes.has(c.type)) {
        throw new ConfigError(`target \`${target.table}\`: key column \`${c.name}\` is ${c.type}, which ferry does not key Elasticsearch documents by (integers, text, UUIDs, decimals, dates and timestamps)`)
      }
      fieldFor(c, key)
    }
  }

  async prepare(plan: PreparePlan): Promise<TableSchema> {
    this.#writable()
    this.checkTarget(plan.schema)
    const client = this.#connection.client
    if (plan.mode === 'recreate') await client.indices.delete({ index: plan.table, ignore_unavailable: true })
    if (!(await this.describe(plan.table))) {
      try {
        // Strict coercion: a long refuses 1.5 rather than index 1 (the `_source` would still say 1.5).
        await client.indices.create({ index: plan.table, settings: { 'index.mapping.coerce': false }, mappings: mappingFor(plan.schema) as never })
      } catch (err) {
        if ((err as { meta?: { body?: { error?: { type?: string } } } }).meta?.body?.error?.type !== 'resource_already_exists_exception') throw err
      }
    } else if (plan.mode === 'truncate') {
      await client.deleteByQuery({ index: plan.table, query: { match_all: {} }, refresh: true, conflicts: 'proceed', slices: 'auto' })
    }
    return (await this.describe(plan.table))!
  }

  async write(target: WriteTarget, rows: readonly Row[], kind: WriteKind): Promise<WriteResult> {
    this.#writable()
    const index = await this.#index(target.table)
    const shape = this.#shapeOf(target, index)
    // Values a column would round (decimal digits, float32) or UTF-8 cannot encode are refused first.
    const checked = refusedRows(target, rows)
    const refused = new Set(checked.map((r) => r.index))
    const good = refused.size ? rows.filter((_, i) => !refused.has(i)) : rows
    const goodIndex = refused.size ? rows.flatMap((_, i) => (refused.has(i) ? [] : [i])) : undefined
    const names = new Set(target.columns.map((c) => c.name))
    const whole = [...index.fields.keys()].every((f) => names.has(f))
    const objects = target.columns.filter((c) => c.type === 'json' && !target.key.includes(c.name)).map((c) => c.name)
    const result = await writeBulk(this.#connection, shape, good, { kind, whole, objects })
    return { rejected: [...checked, ...result.rejected.map((r) => ({ ...r, index: goodIndex ? goodIndex[r.index]! : r.index }))] }
  }

  async #index(table: string): Promise<EsIndex> {
    const cached = this.#indexes.get(table)
    if (cached) return cached
    if (!(await this.describe(table))) throw new MissingTableError(table, `the ${this.#connection.place}`)
    return this.#indexes.get(table)!
  }

  #shapeOf(target: WriteTarget, index: EsIndex): DocumentShape {
    if (this.#shape?.target !== target) this.#shape = { target, shape: new DocumentShape(target.table, target.columns, target.key, index.fields) }
    return this.#shape.shape
  }

  /** Documents under a query given as JSON text, after a refresh (a load runs with refresh off). */
  async count(table: string, filter?: string): Promise<number> {
    await this.#connection.refresh(table)
    const query = queryOf(filter, 'targetWhere')
    return (await this.#connection.client.count({ index: table, ...(query && { query }) })).count
  }

  /** Documents by `_id` (`_mget`, real-time: no refresh needed), 1000 at a time. */
  async lookup(target: WriteTarget, keys: readonly KeyTuple[]): Promise<Row[]> {
    const shape = this.#shapeOf(target, await this.#index(target.table))
    const ids = keys.flatMap((k) => {
      try {
        return [shape.id(k)]
      } catch (err) {
        // A key no document can have (one the sink refuses): not found.
        if (err instanceof ValueError) return []
        throw err
      }
    })
    const fields = target.columns.filter((c) => c.name !== idField).map((c) => c.name)
    const rows: Row[] = []
    for (let i = 0; i < ids.length; i += 1000) {
      const { docs } = await this.#connection.client.mget({ index: target.table, ids: ids.slice(i, i + 1000), _source_includes: fields })
      for (const doc of docs as (Hit & { found?: boolean })[]) if (doc.found) rows.push(shape.row(doc, false))
    }
    return rows
  }

  /** Every key of the index under the filter, in the index's own order (one point in time, `_shard_doc`). */
  async *keys(target: WriteTarget, pageSize: number, filter?: string): AsyncGenerator<KeyTuple[]> {
    const shape = this.#shapeOf(target, await this.#index(target.table))
    const client = this.#connection.client
    await this.#connection.refresh(target.table)
    const query = queryOf(filter, 'targetWhere') ?? { match_all: {} }
    let pit = (await client.openPointInTime({ index: target.table, keep_alive: '5m' })).id
    let after: unknown[] | undefined
    try {
      for (;;) {
        const source = target.key.filter((k) => k !== idField)
        const page = await client.search({ pit: { id: pit, keep_alive: '5m' }, size: pageSize, query, sort: [{ _shard_doc: 'asc' }] as never, _source: source.length ? source : false, track_total_hits: false, ...(after && { search_after: after as never }) })
        pit = page.pit_id ?? pit
        const hits = page.hits.hits as unknown as Hit[]
        if (hits.length === 0) return
        after = hits.at(-1)!.sort
        yield hits.map((h) => keyOf(shape.row(h, false), target.key))
      }
    } finally {
      await client.closePointInTime({ id: pit }).catch(() => {})
    }
  }

  /** Refresh off for the load, restored on every way out (src/sink.ts). */
  loadSettings(table: string): Promise<() => Promise<void>> {
    this.#writable()
    return refreshOff(this.#connection, table)
  }

  /** One request for `before`/`after` steps, as Kibana's console writes it: `POST users/_forcemerge?max_num_segments=1`. */
  async execute(statement: string): Promise<void> {
    this.#writable()
    await runRequest(this.#connection, statement)
  }

  nativeType(column: ColumnInfo): string {
    return fieldText(column, this.#key.includes(column.name))
  }

  classify(err: unknown): FailureKind {
    return classifyEsError(err)
  }

  close(): Promise<void> {
    return this.#connection.close()
  }

  #writable(): void {
    if (this.#readOnly) throw new ConfigError(`the ${this.#connection.place} is open read-only (a dry run): nothing is written`)
  }
}
