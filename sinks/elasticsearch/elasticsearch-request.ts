import type { EsConnection } from '../../src/engines/elasticsearch/elasticsearch-connection.js'
import { ConfigError } from '../../src/errors.js'

/**
 * Runs one request written as Kibana's console writes it, for `before`/`after` steps: a method and
 * a path, then an optional JSON body on the following lines
 * (`PUT users/_settings\n{"number_of_replicas": 1}`).
 */
export async function runRequest(connection: EsConnection, statement: string): Promise<void> {
  const [first = '', ...rest] = statement.trim().split('\n')
  const m = /^(GET|PUT|POST|DELETE|HEAD)\s+(\S+)$/i.exec(first.trim())
  if (!m) {
    throw new ConfigError(`an Elasticsearch step is a request, \`METHOD path\` then an optional JSON body (\`POST users/_forcemerge?max_num_segments=1\`), not ${JSON.stringify(first)}`)
  }
  const text = rest.join('\n').trim()
  let body: unknown
  if (text) {
    try {
      body = JSON.parse(text)
    } catch {
      throw new ConfigError(`the body of the Elasticsearch step \`${first.trim()}\` is not JSON: ${JSON.stringify(text.slice(0, 200))}`)
    }
  }
  const url = new URL(m[2]!.replace(/^\/?/, '/'), 'http://node')
  await connection.client.transport.request({
    method: m[1]!.toUpperCase(),
    path: url.pathname,
    querystring: Object.fromEntries(url.searchParams),
    ...(body !== undefined && { body: body as Record<string, unknown> }),
  })
}
