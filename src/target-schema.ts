import type { ResolvedSettings } from './config.js'
import { ConfigError } from './errors.js'
import { keyId } from './keys.js'
import type { ColumnInfo, LogicalType, Row, TableSchema } from './types.js'

/**
 * The schema of the rows the transform produces, to create the target table from. A target column
 * whose values equal a source column's in every sampled row (`user_id` ← `id`) takes that column's
 * type; others are typed from their JavaScript values.
 */
export function inferTargetSchema(
  settings: ResolvedSettings,
  source: TableSchema,
  sample: readonly { source: Row; target: Row | null | undefined }[],
): TableSchema {
  const table = settings.targetTable
  if (!settings.transform) {
    return { table, columns: source.columns, primaryKey: [settings.targetKey] }
  }
  const pairs = sample.filter((p): p is { source: Row; target: Row } => p.target != null)
  if (pairs.length === 0) {
    throw new ConfigError(
      `cannot infer the columns of target \`${table}\`: the transform produced no row from the first source rows; create the target table first`,
    )
  }
  const names = [...new Set(pairs.flatMap((p) => Object.keys(p.target)))]
  if (!names.includes(settings.targetKey)) {
    throw new ConfigError(
      `setting \`targetKey\`: the transform's rows have no column \`${settings.targetKey}\` (they have ${names.join(', ')})`,
    )
  }
  const columns = names.map((name) => inferColumn(name, pairs, source))
  return { table, columns, primaryKey: [settings.targetKey] }
}

function inferColumn(name: string, pairs: { source: Row; target: Row }[], source: TableSchema): ColumnInfo {
  const carried = source.columns.find((c) =>
    pairs.every((p) => keyId(p.target[name]) === keyId(p.source[c.name])),
  )
  if (carried) return { ...carried, name }
  const value = pairs.map((p) => p.target[name]).find((v) => v != null)
  const type = jsType(value, pairs.map((p) => p.target[name]))
  return { name, nativeType: `computed ${type}`, type, nullable: true }
}

function jsType(value: unknown, all: unknown[]): LogicalType {
  switch (typeof value) {
    case 'boolean':
      return 'boolean'
    case 'bigint':
      return 'bigint'
    case 'number':
      return all.every((v) => v == null || Number.isInteger(v)) ? 'bigint' : 'float'
    case 'object':
      if (value instanceof Date) return 'timestamptz'
      if (value instanceof Uint8Array) return 'bytes'
      return 'json'
    default:
      return 'text'
  }
}

/** Stops a run before it writes when the transform makes columns the existing target lacks. */
export function checkColumns(target: TableSchema, sample: readonly Row[]): void {
  const known = new Set(target.columns.map((c) => c.name))
  for (const row of sample) {
    for (const name of Object.keys(row)) {
      if (!known.has(name)) {
        throw new ConfigError(
          `the transform produces column \`${name}\`, which target table \`${target.table}\` does not have (it has ${[...known].join(', ')})`,
        )
      }
    }
  }
}
