import type { ConnectionOptions } from '../../endpoint.js'
import { ConfigError } from '../../errors.js'
import { redactUrl } from '../../redact.js'
import type { Filter } from '../../source.js'

/**
 * What an Elasticsearch endpoint says: the node (or nodes) the client talks to and the client's
 * options. A URL names a node, never an index: the index is the table (`sourceTable`,
 * `targetTable`). `http(s)://` is every HTTP service's scheme, so Elasticsearch has its own:
 * `elasticsearch://host:9200` (HTTP) and `elasticsearch+https://host:9200` (TLS), or connection
 * options `{ engine: 'elasticsearch', node: 'https://host:9200', auth: { apiKey } }`, whose other
 * options go to the client as they are. Driver-free, so that settings are checked before a
 * connection opens.
 */
export interface EsSettings {
  /** Options for `new Client(…)`, ferry's own taken out. */
  readonly client: Record<string, unknown>
  /** `elasticsearch at http://127.0.0.1:9200`, credentials left out, for messages. */
  readonly place: string
}

/** A whole request gives up after this long unless `requestTimeout` says otherwise: a bulk of large documents takes time. */
const defaultTimeout = 120_000

const urlParams = ['apiKey', 'username', 'password', 'requestTimeout', 'compression'] as const

export function esSettings(connection: string | ConnectionOptions): EsSettings {
  return typeof connection === 'string' ? fromUrl(connection) : fromOptions(connection)
}

function fromUrl(text: string): EsSettings {
  const m = /^elasticsearch(\+https)?:\/\/(.*)$/i.exec(text)
  let url: URL
  try {
    if (!m) throw new Error('not elasticsearch://')
    url = new URL(`${m[1] ? 'https' : 'http'}://${m[2]}`)
  } catch {
    throw new ConfigError(`\`${redactUrl(text)}\` is not an Elasticsearch URL; expected elasticsearch://[user:password@]host:9200 (elasticsearch+https:// for TLS)`)
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    throw new ConfigError(
      `\`${redactUrl(text)}\`: an Elasticsearch URL names the node only (elasticsearch://host:9200); the index is the table (\`sourceTable\`, \`targetTable\`), not \`${decodeURIComponent(url.pathname.slice(1))}\``,
    )
  }
  const params = Object.fromEntries(url.searchParams)
  for (const name of Object.keys(params)) {
    if (!(urlParams as readonly string[]).includes(name)) throw new ConfigError(`elasticsearch URL parameter \`${name}\` is unknown; known: ${urlParams.join(', ')}`)
  }
  const username = params.username ?? decodeURIComponent(url.username)
  const password = params.password ?? decodeURIComponent(url.password)
  if (params.apiKey !== undefined && username) throw new ConfigError('elasticsearch URL: give a user and password or an `apiKey`, not both')
  const node = `${url.protocol}//${url.host}`
  const auth = params.apiKey !== undefined ? { apiKey: params.apiKey } : username ? { username, password } : undefined
  return {
    client: {
      node,
      ...(auth && { auth }),
      requestTimeout: params.requestTimeout === undefined ? defaultTimeout : milliseconds(params.requestTimeout),
      ...(params.compression !== undefined && { compression: flag('compression', params.compression) }),
    },
    place: `elasticsearch at ${node}`,
  }
}

function fromOptions(connection: ConnectionOptions): EsSettings {
  const { engine: _, ...client } = connection
  const node = client.node ?? client.nodes
  const first = Array.isArray(node) ? node[0] : node
  const text = typeof first === 'string' ? first : typeof (first as { url?: unknown } | undefined)?.url === 'string' ? String((first as { url: unknown }).url) : undefined
  if (text === undefined && client.cloud === undefined) {
    throw new ConfigError("elasticsearch connection options need a `node` (`{ engine: 'elasticsearch', node: 'https://host:9200' }`) or `cloud`")
  }
  if (client.requestTimeout !== undefined) milliseconds(client.requestTimeout)
  return {
    client: { requestTimeout: defaultTimeout, ...client },
    place: `elasticsearch at ${text === undefined ? 'Elastic Cloud' : redactUrl(text).replace(/\/+$/, '')}`,
  }
}

function milliseconds(value: unknown): number {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value
  if (typeof n === 'number' && Number.isSafeInteger(n) && n > 0) return n
  throw new ConfigError(`elasticsearch setting \`requestTimeout\` is milliseconds, a whole number above 0 (got ${JSON.stringify(value)})`)
}

function flag(name: string, value: string): boolean {
  if (value === 'true' || value === 'false') return value === 'true'
  throw new ConfigError(`elasticsearch setting \`${name}\` is true or false (got ${JSON.stringify(value)})`)
}

/**
 * Elasticsearch's rules for an index name (lowercase; none of `\ / * ? " < > | , #`, space or
 * `:`; not starting with `-`, `_` or `+`; not `.` or `..`; at most 255 bytes): a name it would
 * refuse is refused before any connection opens, naming the setting.
 */
export function checkIndexName(name: string, setting: string): void {
  const why =
    name !== name.toLowerCase()
      ? 'has upper-case letters'
      : /[\\/*?"<>| ,#:]/.test(name)
        ? 'holds one of \\ / * ? " < > | , # : or a space'
        : /^[-_+]/.test(name)
          ? 'starts with -, _ or +'
          : name === '.' || name === '..'
            ? 'is . or ..'
            : Buffer.byteLength(name) > 255
              ? 'is longer than 255 bytes'
              : undefined
  if (why) throw new ConfigError(`setting \`${setting}\`: \`${name}\` cannot name an Elasticsearch index: it ${why}`)
}

/** A filter as a query DSL object: the object itself, or its JSON text (`--where '{"term": …}'`). */
export function queryOf(filter: Filter | undefined, setting: string): Record<string, unknown> | undefined {
  if (filter === undefined) return undefined
  let query: unknown = filter
  if (typeof filter === 'string') {
    try {
      query = JSON.parse(filter)
    } catch {
      throw new ConfigError(
        `setting \`${setting}\`: an Elasticsearch filter is a query DSL object (\`{ term: { status: 'active' } }\`) or its JSON text, not ${JSON.stringify(filter)}`,
      )
    }
  }
  if (query === null || typeof query !== 'object' || Array.isArray(query)) {
    throw new ConfigError(`setting \`${setting}\`: an Elasticsearch filter is a query DSL object (\`{ term: { status: 'active' } }\`), not ${JSON.stringify(filter)}`)
  }
  return query as Record<string, unknown>
}

/** Checks an Elasticsearch endpoint's settings, index name and filter before any connection opens. */
export function checkElasticsearchSettings(
  connection: string | ConnectionOptions,
  role: 'source' | 'target',
  table: string,
  filter: Filter | undefined,
): void {
  esSettings(connection)
  checkIndexName(table, role === 'source' ? 'sourceTable' : 'targetTable')
  queryOf(filter, role === 'source' ? 'where' : 'targetWhere')
}
