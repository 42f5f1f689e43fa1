import { redactUrl } from './redact-url.js'
import { isSecretName } from './secret-names.js'

export { redactText, redactUrl } from './redact-url.js'
export { isSecretName } from './secret-names.js'

/**
 * A deep copy of a configuration fit to print: any value under a secret name (`password`,
 * `ssl.key`, `auth.token`…, at any depth) is `***`, URL credentials in strings are `***`,
 * functions are named, bytes are counted. Only what JSON would print (own enumerable properties)
 * is copied, so nothing hidden can come back out.
 */
export function redact(value: unknown, key = '', seen = new WeakSet<object>()): unknown {
  if (key && value != null && isSecretName(key)) return '***'
  if (typeof value === 'string') return redactUrl(value)
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`
  if (typeof value === 'bigint') return value.toString()
  if (!value || typeof value !== 'object') return value
  if (value instanceof Uint8Array) return `[${value.byteLength} bytes]`
  if (seen.has(value)) return '[circular]'
  seen.add(value)
  const copy = Array.isArray(value)
    ? value.map((v) => redact(v, '', seen))
    : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k, seen)]))
  seen.delete(value)
  return copy
}
