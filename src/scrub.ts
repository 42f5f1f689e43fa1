import { credentialSpans, redactText } from './redact-url.js'
import { isSecretName } from './secret-names.js'

/** Removes credentials from a text ferry is about to write or throw. */
export type Scrub = (text: string) => string

// Shorter strings are too likely to be ordinary words, numbers or table names to scrub everywhere;
// the structural redaction (names, URLs) still covers them.
const shortest = 4

/**
 * The credential strings in a pipeline's settings, collected before any connection opens: every
 * value under a secret name (at any depth, bytes as text) and the passwords and secret parameters
 * of every connection string.
 */
export function collectSecrets(settings: unknown): Set<string> {
  const found = new Set<string>()
  const seen = new WeakSet<object>()
  const walk = (value: unknown, secret: boolean): void => {
    if (typeof value === 'string') {
      if (secret) found.add(value)
      else for (const s of credentialSpans(value)) addDecoded(found, value.slice(s.start, s.end))
    } else if (typeof value === 'number' || typeof value === 'bigint') {
      if (secret) found.add(String(value))
    } else if (value instanceof Uint8Array) {
      if (secret) found.add(Buffer.from(value).toString('utf8'))
    } else if (value && typeof value === 'object' && !seen.has(value)) {
      seen.add(value)
      for (const [k, v] of Object.entries(value)) walk(v, secret || isSecretName(k))
    }
  }
  walk(settings, false)
  return found
}

/** A percent-encoded password is sent decoded: both spellings are secrets. */
function addDecoded(found: Set<string>, text: string): void {
  found.add(text)
  try {
    found.add(decodeURIComponent(text.replace(/\+/g, ' ')))
    found.add(decodeURIComponent(text))
  } catch {
    // Not valid percent-encoding: the driver sends it as it is.
  }
}

/**
 * Removes credentials from what a run writes: built from the secrets `collectSecrets` found, it
 * replaces each, as it is, as JSON escapes it (log lines and reports are JSON), and line by line (a
 * PEM key printed by `util.inspect` is split into lines).
 */
export class Scrubber {
  readonly #known?: RegExp

  constructor(secrets: Iterable<string> = []) {
    const forms = new Set<string>()
    for (const secret of secrets) {
      for (const form of [secret, ...secret.split(/\r?\n/)]) {
        const text = form.trim()
        if (text.length < shortest) continue
        forms.add(text)
        forms.add(JSON.stringify(text).slice(1, -1))
      }
    }
    // Longest first, so a secret that contains another is replaced whole.
    const alternatives = [...forms].sort((a, b) => b.length - a.length).map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    if (alternatives.length) this.#known = new RegExp(alternatives.join('|'), 'g')
  }

  /** The secrets of `settings` (a pipeline, its tables), collected before any connection opens. */
  static for(settings: unknown): Scrubber {
    return new Scrubber(collectSecrets(settings))
  }

  /** A message or log line without URL credentials, private keys or any known secret. */
  readonly scrub: Scrub = (text) => this.known(redactText(text))

  /** Only the known secrets replaced: for row data, whose own URLs are the user's business. */
  readonly known: Scrub = (text) => (this.#known ? text.replace(this.#known, '***') : text)

  /** The error, scrubbed in place (see `scrubError`). */
  error<E>(err: E): E {
    return scrubError(err, this.scrub)
  }
}

/**
 * Scrubs an error in place before it is printed or handed back: the message and stack of it and
 * of its causes, and their own string properties (Node's `ERR_INVALID_URL` keeps the URL as `input`).
 */
export function scrubError<E>(err: E, scrub: Scrub, seen = new Set<unknown>()): E {
  if (!(err instanceof Error) || seen.has(err)) return err
  seen.add(err)
  for (const name of new Set(['message', 'stack', ...Object.keys(err)])) {
    const value = (err as unknown as Record<string, unknown>)[name]
    if (typeof value !== 'string') continue
    const clean = scrub(value)
    if (clean === value) continue
    try {
      Object.defineProperty(err, name, { value: clean, writable: true, configurable: true })
    } catch {
      // A frozen error: it cannot be changed, and whoever prints it gets its message from us.
    }
  }
  scrubError(err.cause, scrub, seen)
  if (err instanceof AggregateError) for (const e of err.errors) scrubError(e, scrub, seen)
  return err
}
