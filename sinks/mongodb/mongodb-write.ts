import type { AnyBulkWriteOperation, Collection, Document, WriteConcern } from 'mongodb'
import { classifyMongoError, type DocumentError, writeErrorsOf } from '../../src/engines/mongodb/mongodb-errors.js'
import { messageOf, SinkWriteError } from '../../src/errors.js'
import { faultDue, faultPoint } from '../../src/faults.js'

/** Duplicate key: the `_id` (or another unique index) is taken. */
const duplicateKey = 11000

export interface Writer {
  readonly collection: Collection<Document>
  readonly writeConcern?: WriteConcern
  /** How a document is named in messages. */
  readonly name: (doc: Document) => string
}

/**
 * Inserts the documents, unordered (the server writes them all, refusing some). MongoDB has no
 * all-or-nothing batch without a replica-set transaction, so when some are refused the ones it
 * inserted (new keys, nobody else's) are deleted again before the batch is reported refused: the
 * core then splits it down to the refused documents and writes the rest again, as it does with a
 * transaction that rolled back.
 */
export async function insertDocuments(w: Writer, docs: readonly Document[]): Promise<void> {
  try {
    await insertMany(w, docs)
  } catch (err) {
    const refused = perDocument(err)
    const failed = new Set(refused.map((e) => e.index))
    const inserted = docs.filter((_, i) => !failed.has(i))
    if (inserted.length) {
      const deletes = inserted.map((d): AnyBulkWriteOperation => ({ deleteOne: { filter: { _id: d._id } } }))
      await w.collection.bulkWrite(deletes, { ordered: false, ...(w.writeConcern && { writeConcern: w.writeConcern }) })
    }
    throw refusedError(w, docs, refused, err)
  }
}

/**
 * Upserts that touch only the fields the rows carry (`updateOne` with `$set`, never a replacement
 * that would drop the document's other fields). Most upserts of a load meet no document: those go
 * as one unordered `insertMany`, and only the documents whose `_id` is taken are updated. When most
 * of a batch was there already (a rerun, a resumed run's replay), the next batches go straight to
 * the updates, until a batch shows most were new again.
 */
export class Upserter {
  #updateFirst = false

  async write(w: Writer, docs: readonly Document[]): Promise<void> {
    if (this.#updateFirst) {
      const { refused, inserted } = await this.#update(w, docs)
      if (inserted * 2 > docs.length) this.#updateFirst = false
      if (refused.length) throw refusedError(w, docs, refused)
      return
    }
    try {
      await insertMany(w, docs)
    } catch (err) {
      const errors = perDocument(err)
      const taken = errors.filter((e) => e.code === duplicateKey)
      this.#updateFirst = taken.length * 2 > docs.length
      const refused = errors.filter((e) => e.code !== duplicateKey)
      if (taken.length) {
        // Written again whole if a taken key's update fails: inserts and updates repeat harmlessly.
        const again = taken.map((e) => docs[e.index]!)
        refused.push(...(await this.#update(w, again)).refused.map((e) => ({ ...e, index: taken[e.index]!.index })))
      }
      if (refused.length) throw refusedError(w, docs, refused, err)
    }
  }

  async #update(w: Writer, docs: readonly Document[]): Promise<{ refused: DocumentError[]; inserted: number }> {
    const ops = docs.map((doc): AnyBulkWriteOperation => {
      const { _id, ...fields } = doc
      // Only key columns written: create the document if missing, leave an existing one alone.
      const update = Object.keys(fields).length ? { $set: fields } : { $setOnInsert: { _id } }
      return { updateOne: { filter: { _id }, update, upsert: true } }
    })
    try {
      const result = await w.collection.bulkWrite(ops, { ordered: false, ...(w.writeConcern && { writeConcern: w.writeConcern }) })
      return { refused: [], inserted: result.upsertedCount }
    } catch (err) {
      return { refused: perDocument(err), inserted: 0 }
    }
  }
}

async function insertMany(w: Writer, docs: readonly Document[]): Promise<void> {
  const options = { ordered: false, ...(w.writeConcern && { writeConcern: w.writeConcern }) }
  // A crash halfway through: half the documents are in, the rest never arrive.
  if (faultDue('sink-write') && docs.length > 1) await w.collection.insertMany(docs.slice(0, docs.length >> 1), options)
  faultPoint('sink-write')
  // The driver adds an _id to documents without one: ours all have theirs.
  await w.collection.insertMany(docs as Document[], options)
}

/**
 * The per-document errors of a failed bulk write; any other failure (the connection, the whole
 * command, a retryable error of some document) is thrown on, as the sink classifies it.
 */
function perDocument(err: unknown): DocumentError[] {
  const errors = writeErrorsOf(err)
  if (errors.length === 0 || classifyMongoError(err) === 'transient') throw wrapped(err)
  return errors
}

function wrapped(err: unknown): unknown {
  if (err instanceof SinkWriteError || !(err instanceof Error)) return err
  return new SinkWriteError(messageOf(err), classifyMongoError(err), { cause: err })
}

function refusedError(w: Writer, docs: readonly Document[], refused: readonly DocumentError[], cause?: unknown): SinkWriteError {
  const first = [...refused].sort((a, b) => a.index - b.index)[0]!
  const doc = docs[first.index]
  const more = refused.length > 1 ? ` (and ${refused.length - 1} more of the ${docs.length} documents)` : ''
  // Refused for good only when every error is one document's fault; otherwise it stops the run.
  const kind = refused.every((e) => classifyMongoError({ code: e.code }) === 'rejected') ? 'rejected' : 'fatal'
  return new SinkWriteError(`${first.message}${doc ? ` (${w.name(doc)})` : ''}${more}`, kind, { cause })
}
