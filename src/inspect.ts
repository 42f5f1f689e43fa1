import type { ResolvedSettings } from './config.js'
import { ConfigError, messageOf } from './errors.js'
import { type Keys, resolveKeys } from './key-check.js'
import { keyOf, keyText } from './keys.js'
import type { Sink } from './sink.js'
import type { Source } from './source.js'
import { checkColumns, checkGeometry, checkTargetKey, inferTargetSchema } from './target-schema.js'
import type { Row, TableSchema } from './types.js'

export interface SampleRow {
  readonly source: Row
  readonly target: Row | null | undefined
}

/** What a run learns about both sides before it writes anything. */
export interface Inspection {
  readonly source: TableSchema
  /** The source key and the target key, checked. */
  readonly keys: Keys
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
}

/**
 * Checks a table's settings against both databases without writing: the table exists, the key is
 * unique and not null, the filter works, the transform runs on a sample and fits the target, and
 * the target key is unique in an existing target.
 */
export async function inspect(s: ResolvedSettings, source: Source, sink: Sink): Promise<Inspection> {
  const sourceSchema = await source.describe(s.sourceTable)
  const total = await countOrExplain(source, s)
  const keys = await resolveKeys(s, sourceSchema, source)
  const sample = await sampleRows(source, s, keys)
  const existing = await sink.describe(s.targetTable)
  // A whole-database copy plans the table from the source's full schema.
  const inferred = s.targetSchema ?? inferTargetSchema(s, keys, sourceSchema, sample)
  // A document store takes the rows as they are: its existing documents declare no columns.
  const target = existing && s.writeMode !== 'recreate' && !sink.documents ? existing : inferred
  checkColumns(target, sample.flatMap((p) => (p.target ? [p.target] : [])))
  checkGeometry(inferred, target, target === inferred, sink)
  sink.checkTarget?.(target)
  if (target === existing) checkTargetKey(s, keys, existing)
  return {
    source: sourceSchema,
    keys,
    total,
    sample,
    ...(existing && { existingTarget: existing }),
    target,
    inferred,
  }
}

async function countOrExplain(source: Source, s: ResolvedSettings): Promise<number> {
  try {
    return await source.count(s.sourceTable, s.where)
  } catch (err) {
    if (!s.where || err instanceof ConfigError) throw err
    const filter = typeof s.where === 'string' ? s.where : JSON.stringify(s.where)
    throw new ConfigError(`setting \`where\` (${filter}) does not work on \`${s.sourceTable}\`: ${messageOf(err)}${writeHint(messageOf(err))}`, {
      cause: err,
    })
  }
}

/**
 * Why a filter that writes fails: source sessions are read-only and take one statement a query
 * (PostgreSQL: "cannot execute DROP TABLE in a read-only transaction", "cannot insert multiple
 * commands into a prepared statement"; MariaDB: "Cannot execute statement in a READ ONLY transaction").
 */
function writeHint(message: string): string {
  if (/read.only transaction/i.test(message)) {
    return '; ferry reads the source in read-only transactions (PostgreSQL `default_transaction_read_only=on`, MySQL `SET SESSION TRANSACTION READ ONLY`), so a filter cannot write'
  }
  if (/multiple commands/i.test(message)) return '; a filter is one SQL condition: ferry runs each source query as a single statement'
  return ''
}

async function sampleRows(source: Source, s: ResolvedSettings, keys: Keys): Promise<SampleRow[]> {
  const sample: SampleRow[] = []
  const read = { table: s.sourceTable, key: keys.source, filter: s.where }
  const [partition] = await source.partitions(read)
  for await (const page of source.read({ ...read, partition: partition!, pageSize: 100 })) {
    for (const row of page.rows) {
      // Transforms may rewrite their input; keep an untouched copy to compare with.
      const copy = { ...row }
      try {
        sample.push({ source: copy, target: s.transform ? await s.transform(row) : row })
      } catch (err) {
        throw new ConfigError(
          `setting \`transform\` throws on the row with key ${keyText(keyOf(copy, keys.source))}: ${messageOf(err)}`,
          { cause: err },
        )
      }
    }
    break
  }
  return sample
}
