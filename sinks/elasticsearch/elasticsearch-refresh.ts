import type { EsConnection } from '../../src/engines/elasticsearch/elasticsearch-connection.js'
import { describeIndex } from '../../src/engines/elasticsearch/elasticsearch-schema.js'

/**
 * Where the refresh interval an index had before a load is kept while the load runs: in the
 * index's own mapping `_meta`, so that whatever ends the run (a kill -9 too) the next run that
 * loads the index, from any machine, finds it and puts it back.
 */
const marker = 'ferry_load'

interface Saved {
  /** The index's own `index.refresh_interval`, or null for the cluster's default. */
  readonly refresh_interval: string | null
}

/**
 * Switches the index's refresh off for a load (no segment is made every second while documents
 * pour in) and returns what restores it: the interval saved in `_meta` (the one an earlier,
 * killed load saved, if any), then the marker removed, then a refresh, so that searches and
 * counts see the load at once.
 */
export async function refreshOff(connection: EsConnection, index: string): Promise<() => Promise<void>> {
  const client = connection.client
  const meta = (await describeIndex(connection, index))?.meta ?? {}
  let saved = meta[marker] as Saved | undefined
  if (!saved) {
    saved = { refresh_interval: await refreshInterval(connection, index) }
    await client.indices.putMapping({ index, _meta: { ...meta, [marker]: saved } })
  }
  await client.indices.putSettings({ index, settings: { index: { refresh_interval: '-1' } } })
  const restore = saved.refresh_interval
  return async () => {
    // null resets it to the cluster's default, which the client's types do not say.
    await client.indices.putSettings({ index, settings: { index: { refresh_interval: restore as string } } })
    const { [marker]: _, ...rest } = (await describeIndex(connection, index))?.meta ?? {}
    await client.indices.putMapping({ index, _meta: rest })
    await connection.refresh(index)
  }
}

/** The index's own refresh interval, or null when it has none (the default applies). */
async function refreshInterval(connection: EsConnection, index: string): Promise<string | null> {
  const found = await connection.client.indices.getSettings({ index, flat_settings: true, name: 'index.refresh_interval' })
  const value = Object.values(found)[0]?.settings?.['index.refresh_interval' as never] as unknown
  return typeof value === 'string' ? value : null
}
