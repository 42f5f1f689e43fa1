import type { ResolvedSettings } from './config.js'
import { ConfigError, messageOf } from './errors.js'
import type { Sink } from './sink.js'
import type { Source } from './source.js'
import { checkColumns, inferTargetSchema } from './target-schema.js'
import type { Row, TableSchema } from './types.js'

export interface SampleRow {
  readonly source: Row
  readonly target: Row | null | undefined
}

/** What a run learns about both sides before it writes anything. */
export interface Inspection {
  readonly source: TableSchema
  /** Rows under the filter. */
  readonly total: number
  /** The first source rows and what the transform made of them. */
  readonly sample: readonly SampleRow[]
  /** The target table as it is now, if it exists. */
  readonly existingTarget?: TableSchema
  /** The table the rows will be written to: the existing one, or the one a fresh run creates. */
  readonly target: TableSchema
  /** The shape of the transformed rows, typed from the source columns they carry over. */
  readonly inferred: TableSchema
  /** False when the key is not the source's primary key, so nothing guarantees it is unique. */
  readonly keyIsPrimary: boolean
}

/**
 * Checks a table's settings against both databases without writing: the table and key exist, the
 * filter works, the transform runs on a sample and fits the target.
 */
export async function inspect(s: ResolvedSettings, source: Source, sink: Sink): Promise<Inspection> {
  const sourceSchema = await source.describe(s.sourceTable)
  if (!sourceSchema.columns.some((c) => c.name === s.primaryKey)) {
    throw new ConfigError(
      `setting \`primaryKey\`: source table \`${s.sourceTable}\` has no column \`${s.primaryKey}\` (it has ${sourceSchema.columns.map((c) => c.name).join(', ')})`,
    )
  }
  const total = await countOrExplain(source, s)
  const sample = await sampleRows(source, s)
  const existing = await sink.describe(s.targetTable)
  const inferred = inferTargetSchema(s, sourceSchema, sample)
  const target = existing && s.writeMode !== 'recreate' ? existing : inferred
  checkColumns(target, sample.flatMap((p) => (p.target ? [p.target] : [])))
  return {
    source: sourceSchema,
    total,
    sample,
    ...(existing && { existingTarget: existing }),
    target,
    inferred,
    keyIsPrimary: sourceSchema.primaryKey.length === 1 && sourceSchema.primaryKey[0] === s.primaryKey,
  }
}

async function countOrExplain(source: Source, s: ResolvedSettings): Promise<number> {
  try {
    return await source.count(s.sourceTable, s.where)
  } catch (err) {
    if (!s.where) throw err
    throw new ConfigError(`setting \`where\` (${s.where}) does not work on \`${s.sourceTable}\`: ${messageOf(err)}`, {
      cause: err,
    })
  }
}

async function sampleRows(source: Source, s: ResolvedSettings): Promise<SampleRow[]> {
  const sample: SampleRow[] = []
  const pages = source.read({ table: s.sourceTable, key: s.primaryKey, range: {}, where: s.where, pageSize: 100 })
  for await (const page of pages) {
    for (const row of page) {
      // Transforms may rewrite their input; keep an untouched copy to compare with.
      const copy = { ...row }
      try {
        sample.push({ source: copy, target: s.transform ? await s.transform(row) : row })
      } catch (err) {
        throw new ConfigError(
          `setting \`transform\` throws on the row with key ${String(copy[s.primaryKey])}: ${messageOf(err)}`,
          { cause: err },
        )
      }
    }
    break
  }
  return sample
}
