import type { ConnectionOptions } from '../endpoint.js'
import { ConfigError, type FailureKind, SinkWriteError } from '../errors.js'
import { redactUrl } from '../redact.js'
import type { SqlSpelling } from './sql/spelling.js'

/** What `oracledb.getConnection` takes from ferry (the driver takes more). */
export interface OracleConfig {
  readonly user?: string
  readonly password?: string
  readonly connectString: string
  readonly [option: string]: unknown
}

/**
 * The connection from `oracle://user:password@host:1521/service_name` (the path is the service
 * name, as Easy Connect spells it), or `{ engine: 'oracle', user, password, connectString, … }`
 * options passed on to oracledb as they are (a TNS alias or descriptor goes in `connectString`).
 */
export function oracleConfig(connection: string | ConnectionOptions): OracleConfig {
  if (typeof connection !== 'string') {
    const { engine: _, ...options } = connection
    if (typeof options.connectString !== 'string') throw new ConfigError('oracle connection options need a `connectString` (host:1521/service)')
    return { ...options, connectString: options.connectString }
  }
  const example = 'oracle://user:password@host:1521/service_name'
  let url: URL
  try {
    url = new URL(connection)
  } catch {
    throw new ConfigError(`\`${redactUrl(connection)}\` is not a valid Oracle URL (${example})`)
  }
  if (!url.hostname) throw new ConfigError(`Oracle URL \`${redactUrl(connection)}\` names no host (${example})`)
  if ([...url.searchParams.keys()].length) {
    throw new ConfigError(`Oracle URL \`${redactUrl(connection)}\` takes no parameters; give options as \`{ engine: 'oracle', connectString, … }\``)
  }
  const service = decodeURIComponent(url.pathname.slice(1))
  return {
    connectString: `${url.hostname}${url.port ? `:${url.port}` : ''}${service ? `/${service}` : ''}`,
    ...(url.username && { user: decodeURIComponent(url.username) }),
    ...(url.password && { password: decodeURIComponent(url.password) }),
  }
}

/**
 * `"name"`: Oracle keeps a quoted name's case and spaces, but no quoted name may hold a double
 * quote (there is no escape for one) or a NUL.
 */
export function quoteIdent(name: string): string {
  if (name.includes('"') || name.includes('\0')) {
    throw new ConfigError(`identifier ${JSON.stringify(name)} contains a ${name.includes('"') ? 'double quote' : 'NUL'}, which no Oracle name can hold`)
  }
  return `"${name}"`
}

export const oracleSpelling: SqlSpelling = {
  quote: quoteIdent,
  param: (n) => `:${n}`,
  // Oracle compares row values only for equality: (a, b) > (:1, :2) is an error.
  rowValues: false,
  limit: (select, param) => `${select} FETCH FIRST ${param} ROWS ONLY`,
  modulo: (dividend, divisor) => `MOD(${dividend}, ${divisor})`,
}

// https://docs.oracle.com/en/error-help/db/ — a row's fault: unique key (00001), NULL into NOT
// NULL (01400, 01407), too many digits (01438, 01426), too long (12899, 01401), not a number
// (01722, 01858), a date or timestamp it cannot read (01830, 01839, 01840, 01841, 01843, 01847,
// 01850, 01851, 01852, 01853, 01861, 01877, 01878, 01879), constraints (02290, 02291, 02292), a
// MERGE meeting one target row twice (30926), JSON (40441), a bind value of the wrong type (NJS-011).
const rejected = new Set([
  1, 1400, 1407, 1438, 1426, 12899, 1401, 1722, 1858, 1830, 1839, 1840, 1841, 1843, 1847, 1850, 1851, 1852, 1853, 1861,
  1877, 1878, 1879, 2290, 2291, 2292, 30926, 40441, 1461, 22835,
])
// Deadlock (00060), busy (00054, 30006), serialization (08177), a session killed or the instance
// going away or starting (00028, 01012, 01033, 01034, 01089, 01090, 03113, 03114, 03135, 12514,
// 12516, 12520, 12528, 12537, 12541, 12547, 12570, 12571, 25408).
const transient = new Set([
  60, 54, 30006, 8177, 51, 28, 1012, 1033, 1034, 1089, 1090, 3113, 3114, 3135, 12170, 12514, 12516, 12520, 12528, 12537,
  12541, 12547, 12570, 12571, 25408, 4068,
])
// node-oracledb's own: the connection is broken or closed (500, 501, 503, 003), a connect timeout (510).
const transientDriver = new Set(['NJS-500', 'NJS-501', 'NJS-503', 'NJS-003', 'NJS-510', 'NJS-521'])
const rejectedDriver = new Set(['NJS-011', 'NJS-012'])
const networkCodes = /^(ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN)$/

/**
 * The ORA number of an error: `errorNum` as oracledb sets it on a statement's error, or read from
 * the message (`ORA-00001: …`), which is all a batch error (`executeMany` with `batchErrors`) has.
 */
export function oraNumber(err: unknown): number | undefined {
  const { errorNum, code, message } = err as { errorNum?: unknown; code?: unknown; message?: unknown }
  if (typeof errorNum === 'number' && errorNum > 0) return errorNum
  const text = typeof code === 'string' && code.startsWith('ORA-') ? code : typeof message === 'string' ? message : ''
  const m = /^ORA-(\d{5})/.exec(text)
  return m ? Number(m[1]) : undefined
}

/** ORA numbers, driver codes and socket errors → what retrying can do. */
export function classifyOracleError(err: unknown): FailureKind {
  if (err instanceof SinkWriteError) return err.kind
  if (err === null || typeof err !== 'object') return 'transient'
  const code = (err as { code?: unknown }).code
  // A broken connection is NJS-500 whatever ORA error (03113…) caused it.
  if (typeof code === 'string' && (transientDriver.has(code) || networkCodes.test(code))) return 'transient'
  if (typeof code === 'string' && rejectedDriver.has(code)) return 'rejected'
  const ora = oraNumber(err)
  if (ora !== undefined) return rejected.has(ora) ? 'rejected' : transient.has(ora) ? 'transient' : 'fatal'
  if ((err as { isRecoverable?: unknown }).isRecoverable === true) return 'transient'
  return typeof code === 'string' ? 'fatal' : 'transient'
}

/** Whether the connection is gone, so that the next statement must open a new one. */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof SinkWriteError || err === null || typeof err !== 'object') return false
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && (transientDriver.has(code) || networkCodes.test(code))) return true
  const ora = oraNumber(err)
  return ora === 3113 || ora === 3114 || ora === 3135 || ora === 28 || ora === 1012
}
