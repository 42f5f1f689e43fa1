import type { ResolvedSettings } from './config.js'
import type { Keys } from './key-check.js'
import type { Sink } from './sink.js'
import type { Source } from './source.js'
import type { TableSchema } from './types.js'

/**
 * Why a table's rows must be decoded rather than passed through as the engine's raw bulk text
 * (src/raw.ts); undefined when they can pass through: a same-format source and sink, no transform,
 * nothing that needs each row's values (`skipExisting`, a key checked while reading), and every
 * source column written to a target column that takes its raw text as the decoded path would.
 */
export function decodedBecause(s: ResolvedSettings, keys: Keys, source: Source, sink: Sink, from: TableSchema, to: TableSchema): string | undefined {
  if (!s.passthrough) return 'setting `passthrough` is false'
  if (s.transform) return 'the pipeline has a transform'
  if (!source.raw || !sink.raw) return `no raw path from ${source.engine} to ${sink.engine}`
  if (source.raw.format !== sink.raw.format) return `${source.raw.format} is not ${sink.raw.format}`
  if (s.skipExisting) return 'setting `skipExisting` looks up every row'
  if (keys.checkWhileReading) return 'the key is checked while reading'
  for (const column of from.columns) {
    const target = to.columns.find((c) => c.name === column.name)
    if (!target) return `the target has no column \`${column.name}\``
    if (!sink.raw.accepts(column, target)) return `column \`${column.name}\` is ${column.nativeType} in the source and ${target.nativeType} in the target`
  }
  return undefined
}

/** The path, as the run's log and the dry run say it. */
export function pathText(source: Source, because: string | undefined): string {
  return because === undefined ? `raw passthrough (${source.raw!.format}, rows never decoded)` : `decoded rows (${because})`
}
