import type { SkippedObject } from '../catalog.js'
import { type SqlEngine, stringLiteral } from '../schema/sql-expression.js'
import type { CheckInfo, ColumnInfo, ForeignKeyInfo, IndexInfo, TableSchema } from '../types.js'

const quoteId = (engine: SqlEngine, name: string) => (engine === 'mysql' ? `\`${name.replaceAll('`', '``')}\`` : `"${name.replaceAll('"', '""')}"`)

/**
 * A name not in `used` (which it joins): the name itself, else `<table>_<name>`, else numbered;
 * within PostgreSQL's 63 bytes and MySQL's 64 characters.
 */
export function uniqueName(name: string, used: Set<string>, table: string, engine: SqlEngine): string {
  const limit = (n: string) => {
    let out = n
    while (Buffer.byteLength(out) > (engine === 'mysql' ? 64 : 63)) out = out.slice(0, -1)
    return out
  }
  const candidates = [name, `${table}_${name}`]
  let found = candidates.map(limit).find((c) => !used.has(c.toLowerCase()))
  for (let i = 2; !found; i++) found = [limit(`${table}_${name}`.slice(0, 56) + `_${i}`)].find((c) => !used.has(c.toLowerCase()))
  used.add(found.toLowerCase())
  return found
}

/**
 * The CHECKs that stand for MySQL's ENUM, SET and YEAR where the target has no such type
 * (PostgreSQL makes an enum type of ENUM itself; MySQL keeps all three).
 */
export function domainChecks(engine: SqlEngine, table: string, columns: readonly ColumnInfo[]): CheckInfo[] {
  if (engine === 'mysql') return []
  return columns.flatMap((c): CheckInfo[] => {
    const d = c.domain
    const col = quoteId(engine, c.name)
    if (!d || (d.kind === 'enum' && engine === 'postgres')) return []
    if (d.kind === 'year') return [{ name: `${table}_${c.name}_year`, sql: `${col} = 0 OR ${col} BETWEEN 1901 AND 2155` }]
    const values = d.values.map((v) => stringLiteral(engine, v))
    if (d.kind === 'enum') return [{ name: `${table}_${c.name}_enum`, sql: `${col} IN (${values.join(', ')})` }]
    // A SET value lists members in declaration order, comma-separated: removing each member leaves only commas.
    const stripped = d.values.reduce((e, v) => `REPLACE(${e}, ${stringLiteral(engine, `,${v},`)}, ',')`, `',' || ${col} || ','`)
    const trim = engine === 'postgres' ? `BTRIM(${stripped}, ',')` : `TRIM(${stripped}, ',')`
    return [{ name: `${table}_${c.name}_set`, sql: `${col} = '' OR ${trim} = ''` }]
  })
}

interface Names {
  readonly fold: (name: string) => string
  readonly rename: (name: string) => string
  /** Names taken in the whole target database (PostgreSQL and SQLite: tables and indexes; MySQL: foreign keys). */
  readonly globalNames: Set<string>
  readonly skipped: SkippedObject[]
}

/** The table's indexes as the target builds them after the data; those it cannot build are reported. */
export function plannedIndexes(
  table: TableSchema,
  engine: SqlEngine,
  targetTable: string,
  columns: readonly ColumnInfo[],
  names: Names & { warnings: string[] },
): IndexInfo[] {
  const perTable = new Set<string>()
  const out: IndexInfo[] = []
  for (const index of table.indexes ?? []) {
    const where = `${table.table}.${index.name}`
    const skip = (reason: string) => names.skipped.push({ kind: 'index', name: where, reason })
    if (index.unsupported) {
      skip(`${index.unsupported} is not copied`)
      continue
    }
    if (index.kind && engine !== 'mysql') {
      skip(`a ${index.kind.toUpperCase()} index is MySQL's; ${engine} has no such index`)
      continue
    }
    if (index.unique && index.columns.some((c) => c.length) && engine !== 'mysql') {
      skip('a unique index on column prefixes: the whole columns are not unique')
      continue
    }
    if (index.columns.some((c) => c.length) && engine !== 'mysql') names.warnings.push(`index \`${where}\` covers column prefixes in MySQL; it covers the whole columns on ${engine}`)
    const parts = index.columns.map((c) => {
      const name = names.rename(c.name)
      const column = columns.find((k) => k.name === name)
      const unbounded = column && ((column.type === 'text' && !/\(\d+\)/.test(column.nativeType)) || column.type === 'bytes' || column.type === 'json')
      const length = engine === 'mysql' ? (c.length ?? (unbounded && !index.unique && !index.kind ? 255 : undefined)) : undefined
      return { name, ...(c.descending && { descending: true }), ...(length && { length }) }
    })
    const used = engine === 'mysql' ? perTable : names.globalNames
    out.push({ name: uniqueName(names.fold(index.name), used, targetTable, engine), columns: parts, unique: index.unique, ...(index.kind && { kind: index.kind }) })
  }
  return out
}

/** The table's foreign keys among the copied tables; one referencing a table left out is reported. */
export function plannedForeignKeys(
  table: TableSchema,
  targetTable: string,
  copied: ReadonlySet<string>,
  names: Names & { local: Set<string>; target: SqlEngine },
): ForeignKeyInfo[] {
  return (table.foreignKeys ?? []).flatMap((fk): ForeignKeyInfo[] => {
    if (!copied.has(fk.table)) {
      names.skipped.push({ kind: 'foreign key', name: `${table.table}.${fk.name}`, reason: `it references \`${fk.table}\`, which is not copied` })
      return []
    }
    const used = names.target === 'mysql' ? names.globalNames : names.local
    return [
      {
        ...fk,
        name: uniqueName(names.fold(fk.name), used, targetTable, names.target),
        columns: fk.columns.map(names.rename),
        table: names.fold(fk.table),
        // The referenced table's columns are renamed by the same rule.
        referencedColumns: fk.referencedColumns.map(names.fold),
      },
    ]
  })
}
