import { canonical } from './canonical.js'
import type { ResolvedSettings } from './config.js'
import { ConfigError } from './errors.js'
import { type Keys, KeyError } from './key-check.js'
import { sameSet } from './keys.js'
import type { Sink } from './sink.js'
import type { ColumnInfo, LogicalType, Row, TableSchema } from './types.js'

/**
 * The schema of the rows the transform produces, to create the target table from. A target column
 * whose values equal a source column's in every sampled row (`user_id` ← `id`) takes that column's
 * type; others are typed from their JavaScript values.
 */
export function inferTargetSchema(
  settings: ResolvedSettings,
  keys: Keys,
  source: TableSchema,
  sample: readonly { source: Row; target: Row | null | undefined }[],
): TableSchema {
  const table = settings.targetTable
  const keyed = (columns: readonly ColumnInfo[]): TableSchema => {
    const missing = keys.target.filter((k) => !columns.some((c) => c.name === k))
    if (missing.length) {
      throw new ConfigError(
        `setting \`targetKey\`: the rows written to \`${table}\` have no column ${missing.map((m) => `\`${m}\``).join(', ')} (they have ${columns.map((c) => c.name).join(', ')})`,
      )
    }
    return { table, columns, primaryKey: keys.target, uniqueKeys: [keys.target] }
  }
  // Untransformed rows keep the way the source stores them (a same-engine copy passes them through).
  if (!settings.transform) return { ...keyed(source.columns), ...(source.storage !== undefined && { storage: source.storage }) }
  const pairs = sample.filter((p): p is { source: Row; target: Row } => p.target != null)
  if (pairs.length === 0) {
    throw new ConfigError(
      `cannot infer the columns of target \`${table}\`: the transform produced no row from the first source rows; create the target table first`,
    )
  }
  const names = [...new Set(pairs.flatMap((p) => Object.keys(p.target)))]
  return keyed(names.map((name) => inferColumn(name, pairs, source)))
}

function inferColumn(name: string, pairs: { source: Row; target: Row }[], source: TableSchema): ColumnInfo {
  const carried = source.columns.find((c) =>
    pairs.every((p) => canonical(p.target[name], c) === canonical(p.source[c.name], c) && sameKind(p.target[name], p.source[c.name])),
  )
  if (carried) return { ...carried, name }
  const value = pairs.map((p) => p.target[name]).find((v) => v != null)
  const type = jsType(value, pairs.map((p) => p.target[name]))
  return { name, nativeType: `computed ${type}`, type, nullable: true }
}

/** Both values are null, or neither and of one JavaScript type (the text '5' is not the number 5). */
function sameKind(a: unknown, b: unknown): boolean {
  return (a == null) === (b == null) && (a == null || typeof a === typeof b || (isNumeric(a) && isNumeric(b)))
}

const isNumeric = (v: unknown) => typeof v === 'number' || typeof v === 'bigint'

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

/**
 * Before a run writes into an existing table: upserts (and the replays of a resumed run) need the
 * target key to be unique there, or MySQL would add duplicates and the others would fail on every
 * batch. Refuses the run, saying what to add.
 */
export function checkTargetKey(s: ResolvedSettings, keys: Keys, target: TableSchema): void {
  const missing = keys.target.filter((k) => !target.columns.some((c) => c.name === k))
  if (missing.length) {
    throw new KeyError(
      `setting \`targetKey\`: target table \`${target.table}\` has no column ${missing.map((m) => `\`${m}\``).join(', ')} (it has ${target.columns.map((c) => c.name).join(', ')})`,
    )
  }
  // A distributed range taken over is replayed with upserts whatever `checkpoints` says.
  if (s.writeMode !== 'upsert' && !s.checkpoints && s.strategy !== 'distributed') return
  if (target.uniqueKeys.some((u) => sameSet(u, keys.target))) return
  const names = keys.target.map((k) => `\`${k}\``).join(', ')
  const why = s.writeMode === 'upsert' ? 'upserts need' : 'a resumed run replays rows with upserts, which need'
  throw new KeyError(
    `target table \`${target.table}\` has no primary key or unique constraint on (${names}): ${why} one; add PRIMARY KEY or UNIQUE (${names}) to \`${target.table}\`, or let ferry create the table (\`writeMode: 'recreate'\`)`,
  )
}

/**
 * Before a run writes: a geometry goes only into a geometry column, which keeps its kind and SRID.
 * Refuses the run when the table would be created in an engine without geometry columns, or when
 * an existing target column is not a geometry: ferry never turns a geometry into something else on
 * its own. A transform may (`geometryText` gives EWKT text); its column is then that text.
 */
export function checkGeometry(inferred: TableSchema, target: TableSchema, creates: boolean, sink: Sink): void {
  const geometries = inferred.columns.filter((c) => c.type === 'geometry')
  if (geometries.length === 0) return
  const remedy = (n: number) =>
    `convert ${n > 1 ? 'them' : 'it'} in a \`transform\` (\`geometryText(value)\` gives EWKT text such as \`SRID=4326;POINT(1.5 2.25)\`), or leave ${n > 1 ? 'them' : 'it'} out`
  if (creates) {
    if (sink.holdsGeometry) return
    throw new ConfigError(
      `target table \`${target.table}\` would get geometry column${geometries.length > 1 ? 's' : ''} ${geometries.map(geometryName).join(', ')}, but the ${sink.engine} target has no geometry type that keeps a geometry's kind and SRID; ${remedy(geometries.length)}`,
    )
  }
  const misfits = geometries.flatMap((c) => {
    const column = target.columns.find((t) => t.name === c.name)
    return column && column.type !== 'geometry' ? [`${geometryName(c)} would go into \`${column.nativeType}\``] : []
  })
  if (misfits.length) {
    throw new ConfigError(
      `target table \`${target.table}\`: geometry column ${misfits.join(', ')}, which keeps no geometry's kind and SRID; make ${misfits.length > 1 ? 'those columns geometries' : 'that column a geometry'}, or ${remedy(misfits.length)}`,
    )
  }
}

/** `\`geo\` (POINT, SRID 4326)` */
function geometryName(c: ColumnInfo): string {
  const { kind = 'GEOMETRY', srid } = c.geometry ?? {}
  return `\`${c.name}\` (${kind}${srid === undefined ? '' : `, SRID ${srid}`})`
}
