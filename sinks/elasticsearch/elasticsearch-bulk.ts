import type { EsConnection } from '../../src/engines/elasticsearch/elasticsearch-connection.js'
import type { DocumentShape } from '../../src/engines/elasticsearch/elasticsearch-documents.js'
import { ValueError } from '../../src/engines/elasticsearch/elasticsearch-values.js'
import { SinkWriteError } from '../../src/errors.js'
import { faultDue, faultPoint } from '../../src/faults.js'
import { keyOf, keyText } from '../../src/keys.js'
import type { WriteKind, WriteResult } from '../../src/sink.js'
import type { Row } from '../../src/types.js'

/**
 * How a batch is written: `create` for inserts (an existing `_id` is a refused row); for upserts
 * `index`, which replaces the document, when the rows carry every field of the index (nothing
 * else to keep), else `update` with `doc` and `doc_as_upsert`, which sets only the fields the rows
 * carry. An update merges objects into the stored ones, so the JSON columns a partial row carries
 * are first set to null by an update of their own (an update of a missing document is refused as
 * missing, which is what it should find then).
 */
export interface BulkPlan {
  readonly kind: WriteKind
  /** Upserts of rows that carry every field of the index. */
  readonly whole: boolean
  /** JSON columns the rows carry, cleared before a partial upsert. */
  readonly objects: readonly string[]
}

interface Line {
  /** The row's index in the batch. */
  readonly row: number
  /** Clears objects before an update: its refusal as missing is expected. */
  readonly clearing: boolean
}

interface ItemError {
  readonly status: number
  readonly error?: { readonly type?: string; readonly reason?: string; readonly caused_by?: { readonly reason?: string } }
}

/**
 * One `_bulk` request for the batch (no refresh): values a field cannot hold and ids Elasticsearch
 * would refuse are refused rows before it is sent; the items it refuses (a bad value, an existing
 * `_id` on insert) are refused rows after. Items refused for the moment (429, 5xx) fail the batch
 * as transient, so that it is written again, as upserts, whole.
 */
export async function writeBulk(connection: EsConnection, shape: DocumentShape, rows: readonly Row[], plan: BulkPlan): Promise<WriteResult> {
  const rejected: { index: number; error: SinkWriteError }[] = []
  const lines: Line[] = []
  const body: string[] = []
  rows.forEach((row, i) => {
    try {
      const id = JSON.stringify(shape.id(keyOf(row, shape.key)))
      const source = shape.source(row)
      if (plan.kind === 'insert' || plan.whole) {
        body.push(`{"${plan.kind === 'insert' ? 'create' : 'index'}":{"_id":${id}}}`, source)
      } else {
        if (plan.objects.length) {
          body.push(`{"update":{"_id":${id}}}`, `{"doc":{${plan.objects.map((o) => `${JSON.stringify(o)}:null`).join(',')}}}`)
          lines.push({ row: i, clearing: true })
        }
        body.push(`{"update":{"_id":${id}}}`, `{"doc":${source},"doc_as_upsert":true}`)
      }
      lines.push({ row: i, clearing: false })
    } catch (err) {
      if (!(err instanceof ValueError)) throw err
      rejected.push({ index: i, error: refused(shape, row, err.message) })
    }
  })
  if (lines.length === 0) return { rejected }
  const items = await send(connection, shape.table, body)
  const transient: string[] = []
  const fatal: string[] = []
  items.forEach((item, n) => {
    const line = lines[n]!
    if (item.status < 300 || (line.clearing && item.status === 404 && item.error?.type === 'document_missing_exception')) return
    const why = `${item.error?.reason ?? `HTTP ${item.status}`}${item.error?.caused_by?.reason ? ` (${item.error.caused_by.reason})` : ''} (${item.error?.type ?? item.status})`
    if (item.status === 429 || item.status >= 500) transient.push(why)
    else if (item.status === 400 || item.status === 409) {
      if (!rejected.some((r) => r.index === line.row)) rejected.push({ index: line.row, error: refused(shape, rows[line.row]!, why) })
    } else fatal.push(why)
  })
  if (fatal.length) throw new SinkWriteError(`\`${shape.table}\`: ${fatal[0]}${more(fatal)}`, 'fatal')
  if (transient.length) throw new SinkWriteError(`\`${shape.table}\`: ${transient.length} of ${items.length} bulk items refused for now: ${transient[0]}`, 'transient')
  return { rejected }
}

async function send(connection: EsConnection, index: string, body: string[]): Promise<ItemError[]> {
  const client = connection.client
  // A crash halfway through: the first half of the documents is in, the rest never arrives.
  if (faultDue('sink-write') && body.length > 2) await client.bulk({ index, body: `${body.slice(0, (body.length >> 2) * 2).join('\n')}\n` as never })
  faultPoint('sink-write')
  // A string body is sent as it is: ferry writes the NDJSON itself, bigints and decimals as digits.
  const response = await client.bulk({ index, body: `${body.join('\n')}\n` as never })
  return response.items.map((item) => Object.values(item)[0] as ItemError)
}

function refused(shape: DocumentShape, row: Row, why: string): SinkWriteError {
  return new SinkWriteError(`\`${shape.table}\` refused the document of the row with key ${keyText(keyOf(row, shape.key))}: ${why}`, 'rejected')
}

const more = (list: readonly string[]) => (list.length > 1 ? ` (and ${list.length - 1} more)` : '')
