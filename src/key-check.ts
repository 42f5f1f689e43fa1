import type { ResolvedSettings } from './config.js'
import { KeyError } from './errors.js'
import { keyId } from './canonical.js'
import { keyOf, keyText, sameSet } from './keys.js'
import type { Page, Source } from './source.js'
import type { ColumnInfo, TableSchema } from './types.js'

export { KeyError }

/** The keys a run reads and writes by, as checked before it starts. */
export interface Keys {
  /** The source key's columns, in the order rows are read. */
  readonly source: readonly string[]
  readonly sourceColumns: readonly ColumnInfo[]
  /** Why the key is unique: the source declares it, or the pipeline asserts it. */
  readonly origin: 'primary key' | 'unique key' | 'asserted'
  /** Whether rows are checked while read: an asserted key, or key columns that allow NULL. */
  readonly checkWhileReading: boolean
  /** The target key's columns: what the transform's rows are upserted and looked up by. */
  readonly target: readonly string[]
}

const list = (names: readonly string[]) => `(${names.map((n) => `\`${n}\``).join(', ')})`

/**
 * The source key: the `primaryKey` setting, else the table's primary key, else its first unique
 * key. It must be unique (declared so by the source, or asserted by the pipeline) and hold no NULL
 * under the filter; otherwise the run is refused before a row moves, saying what would do.
 */
export async function resolveKeys(s: ResolvedSettings, schema: TableSchema, source: Source): Promise<Keys> {
  const names = s.primaryKey ?? defaultKey(s, schema)
  const sourceColumns = names.map((name) => {
    const column = schema.columns.find((c) => c.name === name)
    if (!column) {
      throw new KeyError(
        `setting \`primaryKey\`: source table \`${s.sourceTable}\` has no column \`${name}\` (it has ${schema.columns.map((c) => c.name).join(', ')})`,
      )
    }
    return column
  })
  const declared = schema.uniqueKeys.find((u) => u.every((c) => names.includes(c)))
  if (!declared && !s.assertUniqueKey) throw notUnique(s, names, schema)
  const nullable = sourceColumns.filter((c) => c.nullable).map((c) => c.name)
  if (nullable.length && (await source.hasNullKey({ table: s.sourceTable, key: names, filter: s.where }, nullable))) {
    throw new KeyError(
      `key ${list(names)} of source table \`${s.sourceTable}\` is NULL in some rows (column ${list(nullable)} allows NULL): a key must be unique and not null; leave those rows out with \`where\`, or choose other key columns`,
    )
  }
  const origin = !declared ? 'asserted' : sameSet(declared, schema.primaryKey) ? 'primary key' : 'unique key'
  return {
    source: names,
    sourceColumns,
    origin,
    checkWhileReading: origin === 'asserted' || nullable.length > 0,
    target: s.targetKey ?? names,
  }
}

function defaultKey(s: ResolvedSettings, schema: TableSchema): readonly string[] {
  if (schema.primaryKey.length) return schema.primaryKey
  const notNull = (key: readonly string[]) => key.every((name) => schema.columns.find((c) => c.name === name)?.nullable === false)
  const unique = schema.uniqueKeys.find(notNull) ?? schema.uniqueKeys[0]
  if (unique) return unique
  throw new KeyError(
    `source table \`${s.sourceTable}\` has no primary key or unique key: set \`primaryKey\` to columns that are unique and not null, with \`assertUniqueKey: true\` (ferry then checks them while reading)`,
  )
}

function notUnique(s: ResolvedSettings, names: readonly string[], schema: TableSchema): KeyError {
  const known = [
    ...(schema.primaryKey.length ? [`its primary key is ${list(schema.primaryKey)}`] : ['it has no primary key']),
    ...schema.uniqueKeys.filter((u) => !sameSet(u, schema.primaryKey)).map((u) => `unique key ${list(u)}`),
  ].join('; ')
  const suggestion = schema.uniqueKeys[0] ? `set \`primaryKey\` to a unique key such as ${JSON.stringify(schema.uniqueKeys[0])}, ` : ''
  return new KeyError(
    `setting \`primaryKey\`: ${list(names)} is not a unique key of source table \`${s.sourceTable}\` (${known}), so rows sharing a key would be lost; ${suggestion}add a unique constraint on ${list(names)}, or set \`assertUniqueKey: true\` if the rows are unique (ferry then checks it while reading)`,
  )
}

/**
 * The pages of a read, checked: no key column NULL and, for an asserted key, no two consecutive
 * rows with the same key (rows come in key order, so equal keys are neighbours).
 */
export async function* checkedPages(pages: AsyncIterable<Page>, table: string, keys: Keys): AsyncGenerator<Page> {
  let last: string | undefined
  for await (const page of pages) {
    for (const row of page.rows) {
      const tuple = keyOf(row, keys.source)
      if (tuple.some((v) => v === null || v === undefined)) {
        throw new KeyError(`source table \`${table}\` has a row whose key ${list(keys.source)} is ${keyText(tuple)}: a key must not be NULL`)
      }
      if (keys.origin !== 'asserted') continue
      const id = keyId(tuple, keys.sourceColumns)
      if (id === last) {
        throw new KeyError(
          `source table \`${table}\` has two rows with key ${keyText(tuple)}: the key ${list(keys.source)} asserted unique is not; choose key columns that are`,
        )
      }
      last = id
    }
    yield page
  }
}
