import { isSecretName } from './secret-names.js'

/** Where a credential sits in a text: `text.slice(start, end)`. */
export interface Span {
  readonly start: number
  readonly end: number
}

/** `postgres://`, `mongodb+srv://`, also misspelled or unknown schemes. */
const scheme = /^[a-z][a-z0-9+.-]*:\/\//i
/** `scott/tiger@host:1521/orcl`, Oracle's easy connect with a password. */
const easyConnect = /^[a-z][\w$#.]*\//i
/** `?password=…`, `&api_key=…`, `;Password=…` (ADO), or a whole `password=…`; the value runs to the next `&` or `;`. */
const parameter = /(^|[?&;])([^=&;?#\r\n]+)=([^&;]*)/g
/** A PEM private key; one cut short ends at a quote (the end of a JSON string) or the end of the text. */
const privateKey = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|(?=["'`])|$)/g
/** A URL inside a message: it ends at whitespace, a quote, a backtick or an angle bracket. */
const urlInText = /\b[a-z][a-z0-9+.-]*:\/\/[^\s`'"<>]*/gi

/**
 * The credentials in a connection string, whatever its scheme (a misspelled one too): the password
 * of its user-info, the values of parameters with secret names, an Oracle easy-connect password,
 * and PEM private keys.
 */
export function credentialSpans(value: string): Span[] {
  const authority = scheme.exec(value)?.[0].length
  const spans: Span[] = []
  // Text with spaces is a URL only when it says so; `where` filters and the like are not.
  const password =
    authority !== undefined ? userInfoPassword(value, authority) : /\s/.test(value) ? undefined : schemeless(value)
  if (password) spans.push(password)
  for (const m of value.slice(password?.end ?? 0).matchAll(parameter)) {
    if (!isSecretName(m[2]!.trim())) continue
    const end = (password?.end ?? 0) + m.index + m[0].length
    spans.push({ start: end - m[3]!.length, end })
  }
  for (const m of value.matchAll(privateKey)) spans.push({ start: m.index, end: m.index + m[0].length })
  return merge(spans.filter((s) => s.end > s.start))
}

function schemeless(value: string): Span | undefined {
  const at = value.lastIndexOf('@')
  if (easyConnect.test(value) && at > 0) return { start: value.indexOf('/') + 1, end: at }
  return userInfoPassword(value, 0)
}

/**
 * The password in `user:password@host`, from `from` on. The last `@` before the host ends it, so a
 * password may hold `@` (and `:`) unencoded; if it holds `/`, `?` or `#`, the host looks malformed
 * (`user:pa` with no port), and the last `@` of the whole string ends it.
 */
function userInfoPassword(value: string, from: number): Span | undefined {
  const rest = value.slice(from)
  const authority = rest.split(/[/?#]/, 1)[0]!
  let at = authority.lastIndexOf('@')
  if (at < 0) {
    const colon = authority.indexOf(':')
    const hostAndPort = colon < 0 || authority.startsWith('[') || /^\d+$/.test(authority.slice(colon + 1))
    if (hostAndPort) return undefined
    at = rest.lastIndexOf('@')
  }
  const colon = rest.indexOf(':')
  if (at < 0 || colon < 0 || colon > at) return undefined
  return { start: from + colon + 1, end: from + at }
}

function merge(spans: Span[]): Span[] {
  const merged: Span[] = []
  for (const s of spans.sort((a, b) => a.start - b.start)) {
    const last = merged.at(-1)
    if (last && s.start <= last.end) merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, s.end) }
    else merged.push(s)
  }
  return merged
}

/** The text with each span replaced by `***`. */
export function blank(text: string, spans: readonly Span[]): string {
  let out = text
  for (const s of [...spans].reverse()) out = `${out.slice(0, s.start)}***${out.slice(s.end)}`
  return out
}

/** A connection string with its credentials replaced by `***`, for logs and reports. */
export function redactUrl(value: string): string {
  return blank(value, credentialSpans(value))
}

/** A message or log line with the credentials of the URLs it quotes, and any private key, replaced by `***`. */
export function redactText(text: string): string {
  return text.replace(urlInText, (url) => redactUrl(url)).replace(privateKey, '***')
}
