import type { ConnectionOptions, Endpoint } from '../config.js'
import { ConfigError, ConnectionError, messageOf } from '../errors.js'
import type { Sink } from '../sink.js'
import type { Source } from '../source.js'
import { redactUrl } from '../redact.js'

/** URL schemes ferry understands, and the dialect each one means. */
const schemes: Record<string, string> = {
  sqlite: 'sqlite',
  postgres: 'postgres',
  postgresql: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
}

interface DialectModule {
  createSource(connection: string | ConnectionOptions): Source
  createSink(connection: string | ConnectionOptions): Sink
}

// Loaded lazily so that a pipeline only needs the drivers it uses.
const modules: Record<string, () => Promise<DialectModule>> = {
  sqlite: () => import('./sqlite-module.js'),
  postgres: () => import('./postgres-module.js'),
  mysql: () => import('./mysql-module.js'),
}

export const knownDialects = Object.keys(modules)

/** The dialect named by a URL's scheme (`postgres://…` → `postgres`), or undefined. */
export function dialectOf(url: string): string | undefined {
  const match = /^([a-z][a-z0-9+.-]*):/i.exec(url)
  return match ? schemes[match[1]!.toLowerCase()] : undefined
}

async function load(connection: string | ConnectionOptions): Promise<DialectModule> {
  const dialect = typeof connection === 'string' ? dialectOf(connection) : connection.dialect
  const loader = dialect === undefined ? undefined : modules[dialect]
  if (!loader) {
    throw new ConfigError(
      `unknown database in \`${describeEndpoint(connection)}\`; known: ${knownDialects.join(', ')}`,
    )
  }
  return loader()
}

/** Creates and opens a source; an unreachable database becomes a `ConnectionError` naming it. */
export async function openSource(endpoint: Endpoint<Source>): Promise<Source> {
  const source =
    typeof endpoint === 'function' ? endpoint() : (await load(endpoint)).createSource(endpoint)
  await openOrExplain(source, 'source', endpoint)
  return source
}

export async function openSink(endpoint: Endpoint<Sink>): Promise<Sink> {
  const sink = typeof endpoint === 'function' ? endpoint() : (await load(endpoint)).createSink(endpoint)
  await openOrExplain(sink, 'target', endpoint)
  return sink
}

/** A source and a sink of their own, as each worker and each dry-run table needs. */
export async function openConnections(s: {
  source: Endpoint<Source>
  target: Endpoint<Sink>
}): Promise<{ source: Source; sink: Sink }> {
  const source = await openSource(s.source)
  try {
    return { source, sink: await openSink(s.target) }
  } catch (err) {
    await source.close()
    throw err
  }
}

/** Opens the target database as a source, to read back what was written (validation). */
export async function openTargetAsSource(endpoint: Endpoint<Sink>): Promise<Source | undefined> {
  if (typeof endpoint === 'function') return undefined
  return openSource(endpoint)
}

async function openOrExplain(
  db: { open(): Promise<void> },
  role: string,
  endpoint: Endpoint<unknown>,
): Promise<void> {
  try {
    await db.open()
  } catch (err) {
    throw new ConnectionError(
      `cannot open the ${role} database \`${describeEndpoint(endpoint)}\`: ${messageOf(err)}`,
      { cause: err },
    )
  }
}

export function describeEndpoint(endpoint: Endpoint<unknown>): string {
  if (typeof endpoint === 'string') return redactUrl(endpoint)
  if (typeof endpoint === 'function') return endpoint.name || 'factory'
  return `${endpoint.dialect} connection options`
}
