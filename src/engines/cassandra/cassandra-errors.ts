import { ConfigError, ConnectionError, type FailureKind, SinkWriteError } from '../../errors.js'

// Native protocol error codes (the driver's `types.responseErrorCodes`; CQL binary protocol spec, section 9).
export const errorCodes = {
  serverError: 0x0000,
  unavailable: 0x1000,
  overloaded: 0x1001,
  isBootstrapping: 0x1002,
  truncateError: 0x1003,
  writeTimeout: 0x1100,
  readTimeout: 0x1200,
  invalid: 0x2200,
} as const

/** What a retry can fix: too few replicas up, an overloaded or starting node, a timeout. */
const transientCodes = new Set<number>([
  errorCodes.unavailable,
  errorCodes.overloaded,
  errorCodes.isBootstrapping,
  errorCodes.truncateError,
  errorCodes.writeTimeout,
  errorCodes.readTimeout,
])

// Driver errors of the connection, not of a request: no node reachable, a request timed out
// client-side (it may have been applied: ferry retries writes as upserts), a full connection.
const transientNames = /^(NoHostAvailableError|OperationTimedOutError|BusyConnectionError)$/
const networkCodes = /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ECONNABORTED)$/

// An invalid request about the table, not about one row's values: never a rejected row.
const schemaProblem = /unconfigured table|undefined column|unknown identifier|keyspace .* does not exist|cannot be restricted|ALLOW FILTERING/i

interface DriverError {
  name?: unknown
  code?: unknown
  message?: unknown
  /** Set by the driver on an error of preparing a statement (the statement, not a value, is wrong). */
  query?: unknown
  /** Set by the driver on the requests of a connection that closed under them ("Socket was closed"). */
  isSocketError?: unknown
}

/**
 * Cassandra errors → what retrying can do. Timeouts, unavailable replicas, an overloaded node and
 * lost connections are transient. A request the server finds invalid once prepared is one row's
 * fault (a timeuuid that is not one, an empty partition key, a mutation too large), as is a value
 * the driver cannot encode; the statement itself being invalid (unknown column or table) stops the
 * run. Everything else (syntax, authentication, permissions) is fatal.
 */
export function classifyCassandraError(err: unknown): FailureKind {
  if (err instanceof SinkWriteError) return err.kind
  if (err instanceof ConfigError) return 'fatal'
  if (err instanceof ConnectionError) return 'transient'
  const e = (err ?? {}) as DriverError
  const name = typeof e.name === 'string' ? e.name : ''
  const message = typeof e.message === 'string' ? e.message : ''
  if (transientNames.test(name) || e.isSocketError === true) return 'transient'
  if (typeof e.code === 'string' && networkCodes.test(e.code)) return 'transient'
  if (name === 'ResponseError' && typeof e.code === 'number') {
    if (transientCodes.has(e.code)) return 'transient'
    if (e.code === errorCodes.invalid && e.query === undefined && !schemaProblem.test(message)) return 'rejected'
    return 'fatal'
  }
  // The driver refuses a value it cannot encode before sending it.
  if (err instanceof TypeError && /^(Not a valid|Invalid|number format error)/i.test(message)) return 'rejected'
  if (err instanceof RangeError) return 'rejected'
  return 'fatal'
}

/** Whether a failed read may succeed when read again (a timeout, a lost connection). */
export function isTransient(err: unknown): boolean {
  return classifyCassandraError(err) === 'transient'
}

/** A read that timed out on the server or the client: a smaller range may not. */
export function isTimeout(err: unknown): boolean {
  const e = (err ?? {}) as DriverError
  return e.name === 'OperationTimedOutError' || (e.name === 'ResponseError' && e.code === errorCodes.readTimeout)
}
