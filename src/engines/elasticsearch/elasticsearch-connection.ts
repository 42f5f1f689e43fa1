import { Client, errors } from '@elastic/elasticsearch'
import { ConfigError, type FailureKind, SinkWriteError } from '../../errors.js'
import { LosslessSerializer } from './elasticsearch-json.js'
import type { EsSettings } from './elasticsearch-settings.js'

/**
 * One client of an Elasticsearch cluster (its own pool of HTTP connections, which it reopens by
 * itself). The client's own retries are off: ferry's retries decide what is sent again and count
 * each attempt.
 */
export class EsConnection {
  #client?: Client
  #version = 'unknown'

  constructor(readonly settings: EsSettings) {}

  get place(): string {
    return this.settings.place
  }

  async open(): Promise<void> {
    const client = new Client({ maxRetries: 0, ...this.settings.client, Serializer: LosslessSerializer })
    try {
      this.#version = await version(client)
    } catch (err) {
      await client.close().catch(() => {})
      throw err
    }
    this.#client = client
  }

  get client(): Client {
    if (!this.#client) throw new Error('EsConnection used before open()')
    return this.#client
  }

  /** The server's version, as `GET /` says it. */
  get version(): string {
    return this.#version
  }

  /** Makes every acknowledged write visible to searches and counts (a load runs with refresh off). */
  async refresh(index: string): Promise<void> {
    await this.client.indices.refresh({ index })
  }

  async close(): Promise<void> {
    const client = this.#client
    this.#client = undefined
    await client?.close().catch(() => {})
  }
}

/** The version from `GET /`; a server without that route (a bare node) is asked for its health instead. */
async function version(client: Client): Promise<string> {
  try {
    return (await client.info()).version.number
  } catch (err) {
    if (statusOf(err) !== 405) throw err
    await client.cluster.health()
    return 'unknown'
  }
}

export function statusOf(err: unknown): number | undefined {
  return err instanceof errors.ResponseError ? err.meta.statusCode : undefined
}

/** The `error.type` of an Elasticsearch error body (`version_conflict_engine_exception`), if any. */
export function errorType(err: unknown): string | undefined {
  const body = err instanceof errors.ResponseError ? (err.meta.body as { error?: { type?: unknown } } | undefined) : undefined
  return typeof body?.error?.type === 'string' ? body.error.type : undefined
}

/** Statuses after which the same request may succeed: too many requests, a node or shard not there yet. */
const transientStatuses = new Set([429, 502, 503, 504])
const transientTypes = new Set(['search_context_missing_exception', 'no_shard_available_action_exception', 'unavailable_shards_exception', 'node_not_connected_exception', 'circuit_breaking_exception'])

/**
 * Elasticsearch failures → what retrying can do. Lost or refused connections, timeouts, 429 and
 * 502–504 and a point in time that expired (the read opens another from its position) are
 * transient; a request too large for the node (413) is the batch's fault, so the core splits it;
 * anything else (a bad mapping or query, a missing index, no permission) stops the run.
 */
export function classifyEsError(err: unknown): FailureKind {
  if (err instanceof SinkWriteError) return err.kind
  if (err instanceof ConfigError) return 'fatal'
  if (err instanceof errors.ConnectionError || err instanceof errors.TimeoutError || err instanceof errors.NoLivingConnectionsError) return 'transient'
  const status = statusOf(err)
  if (status === undefined) return 'fatal'
  if (transientStatuses.has(status) || transientTypes.has(errorType(err) ?? '')) return 'transient'
  return status === 413 ? 'rejected' : 'fatal'
}
