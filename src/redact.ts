const secretKey = /pass(word)?|secret|token|credential|api[-_]?key/i

/** A URL with its password replaced, for logs and reports. Non-URLs pass through. */
export function redactUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):([^@]*)@/i, '$1:***@')
}

/** A deep copy of a configuration fit to print: passwords and URL credentials removed, functions named. */
export function redact(value: unknown, key = ''): unknown {
  if (typeof value === 'string') return secretKey.test(key) ? '***' : redactUrl(value)
  if (typeof value === 'function') return `[function ${value.name || 'anonymous'}]`
  if (typeof value === 'bigint') return value.toString()
  if (Array.isArray(value)) return value.map((v) => redact(v))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]))
  }
  return value
}
