import { ConfigError, type FailureKind, SinkWriteError } from '../../errors.js'

// Server codes after which the same operation may succeed: a lost or stepping-down primary, a
// killed or expired cursor, lock and write conflicts, timeouts. From the server's error_codes.yml
// (https://github.com/mongodb/mongo/blob/master/src/mongo/base/error_codes.yml).
const transientCodes = new Set([
  6, 7, 24, 43, 46, 50, 63, 64, 89, 91, 112, 133, 150, 189, 234, 262, 9001, 10107, 11600, 11602, 13388, 13435, 13436,
])

// Codes that are one document's fault: duplicate key, document validation, a bad value or field
// name, a document or index key too large, a type mismatch on update.
const rejectedCodes = new Set([2, 14, 28, 52, 55, 56, 57, 66, 121, 10334, 11000, 11001, 12582, 17280, 17419])

// Errors the driver raises itself: lost connections and servers it cannot reach.
const transientNames = /^Mongo(Network|NetworkTimeout|ServerSelection|PoolClosed|PoolCleared|WaitQueueTimeout)/

interface MongoLike {
  name?: unknown
  code?: unknown
  errorLabels?: unknown
  hasErrorLabel?: (label: string) => boolean
  writeErrors?: unknown
  writeConcernError?: unknown
}

/** What a failed MongoDB operation calls for, with the sinks' meaning of `FailureKind`. */
export function classifyMongoError(err: unknown): FailureKind {
  if (err instanceof SinkWriteError) return err.kind
  if (err instanceof ConfigError) return 'fatal'
  const e = (err ?? {}) as MongoLike
  const name = typeof e.name === 'string' ? e.name : ''
  if (transientNames.test(name)) return 'transient'
  if (e.hasErrorLabel?.('RetryableWriteError') || e.hasErrorLabel?.('ResetPool')) return 'transient'
  const codes = writeErrorCodes(e)
  if (codes.length) {
    if (codes.some((c) => transientCodes.has(c))) return 'transient'
    return codes.every((c) => rejectedCodes.has(c)) ? 'rejected' : 'fatal'
  }
  if (e.writeConcernError) return 'transient'
  if (typeof e.code === 'number') {
    if (transientCodes.has(e.code)) return 'transient'
    if (rejectedCodes.has(e.code)) return 'rejected'
    return 'fatal'
  }
  // The driver refuses a document before sending it (larger than 16 MiB, a value BSON cannot hold).
  if (name === 'BSONError' || /larger than the maximum size/.test(String((err as Error).message))) return 'rejected'
  return 'fatal'
}

/** The codes of a bulk write's per-document errors. */
function writeErrorCodes(err: unknown): number[] {
  return writeErrorsOf(err).map((w) => w.code)
}

export interface DocumentError {
  /** The document's index in the batch. */
  readonly index: number
  readonly code: number
  readonly message: string
}

/** A bulk write's per-document errors (the driver gives one or a list). */
export function writeErrorsOf(err: unknown): DocumentError[] {
  const list = (err as MongoLike | undefined)?.writeErrors
  if (list === undefined || list === null) return []
  const all = (Array.isArray(list) ? list : [list]) as { index?: unknown; code?: unknown; errmsg?: unknown; message?: unknown }[]
  return all.map((w) => ({ index: Number(w.index), code: Number(w.code), message: String(w.errmsg ?? w.message ?? '') }))
}
