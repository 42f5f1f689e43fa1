import type Database from 'better-sqlite3'
import type { Catalog, SkippedObject } from '../catalog.js'
import type { CheckInfo, ColumnInfo, ForeignKeyInfo, IndexInfo, ReferentialAction, TableSchema } from '../types.js'

type Describe = (db: Database.Database, table: string) => TableSchema | undefined
// Not imported from sqlite.ts, which imports this module.
const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`

/**
 * The file's tables with their full schema. SQLite keeps CHECK constraints only in the CREATE
 * TABLE text, so they are read from it; a single `INTEGER PRIMARY KEY` is the rowid, which SQLite
 * assigns: an identity column.
 */
export function sqliteCatalog(db: Database.Database | undefined, describeTable: Describe): Catalog {
  if (!db) return { engine: 'sqlite', tables: [], skipped: [] }
  const objects = db.prepare("SELECT type, name, tbl_name AS tbl, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name").all() as {
    type: string
    name: string
    tbl: string
    sql: string | null
  }[]
  const skipped: SkippedObject[] = []
  const tables: TableSchema[] = []
  for (const o of objects) {
    if (o.type === 'view') skipped.push({ kind: 'view', name: o.name, reason: 'views are not copied; create it on the target from its definition' })
    else if (o.type === 'trigger') skipped.push({ kind: 'trigger', name: `${o.tbl}.${o.name}`, reason: 'triggers are not copied' })
    else if (o.type === 'table' && /^\s*CREATE\s+VIRTUAL\s+TABLE/i.test(o.sql ?? '')) skipped.push({ kind: 'table', name: o.name, reason: 'a virtual table (a module such as fts5) is not copied' })
    else if (o.type === 'table') tables.push(tableSchema(db, describeTable, o.name, o.sql ?? '', skipped))
  }
  return { engine: 'sqlite', tables, skipped }
}

function tableSchema(db: Database.Database, describeTable: Describe, table: string, sql: string, skipped: SkippedObject[]): TableSchema {
  const base = describeTable(db, table)!
  const info = db.prepare(`PRAGMA table_xinfo(${quoteIdent(table)})`).all() as { name: string; type: string; dflt_value: string | null; hidden: number }[]
  for (const c of info.filter((c) => c.hidden === 2 || c.hidden === 3)) {
    skipped.push({ kind: 'column', name: `${table}.${c.name}`, reason: 'a generated column: its values are computed by SQLite' })
  }
  const rowid = base.primaryKey.length === 1 ? info.find((c) => c.name === base.primaryKey[0] && c.type.toUpperCase() === 'INTEGER')?.name : undefined
  const columns = base.columns.map((c): ColumnInfo => {
    const dflt = info.find((i) => i.name === c.name)?.dflt_value
    return {
      ...c,
      ...(dflt != null && !/^null$/i.test(dflt) && { default: dflt }),
      ...(c.name === rowid && { identity: true }),
    }
  })
  return {
    ...base,
    columns,
    indexes: indexes(db, table),
    foreignKeys: foreignKeys(db, describeTable, table, sql),
    checks: checks(table, sql),
  }
}

function indexes(db: Database.Database, table: string): IndexInfo[] {
  const list = db.prepare(`PRAGMA index_list(${quoteIdent(table)})`).all() as { name: string; unique: number; origin: string; partial: number }[]
  return list
    .filter((i) => i.origin !== 'pk')
    .map((i): IndexInfo => {
      const parts = (db.prepare(`PRAGMA index_xinfo(${quoteIdent(i.name)})`).all() as { cid: number; name: string | null; desc: number; key: number }[]).filter((p) => p.key === 1)
      const columns = parts.map((p) => ({ name: p.name ?? '', ...(p.desc === 1 && { descending: true }) }))
      // A UNIQUE constraint's index is named by SQLite (sqlite_autoindex_t_1): named as PostgreSQL would.
      const name = i.origin === 'u' ? `${table}_${columns.map((c) => c.name).join('_')}_key` : i.name
      const unsupported = i.partial ? 'a partial index (WHERE …)' : parts.some((p) => p.cid < 0) ? 'an index on an expression' : undefined
      return { name, columns, unique: i.unique === 1, ...(unsupported && { unsupported }) }
    })
}

function foreignKeys(db: Database.Database, describeTable: Describe, table: string, sql: string): ForeignKeyInfo[] {
  const rows = db.prepare(`PRAGMA foreign_key_list(${quoteIdent(table)})`).all() as {
    id: number
    seq: number
    table: string
    from: string
    to: string | null
    on_update: string
    on_delete: string
  }[]
  const names = foreignKeyNames(sql)
  const byId = new Map<number, typeof rows>()
  for (const r of rows) byId.set(r.id, [...(byId.get(r.id) ?? []), r])
  // foreign_key_list numbers the keys from the last declared.
  const ids = [...byId.keys()].sort((a, b) => b - a)
  return ids.map((id) => {
    const parts = byId.get(id)!.sort((a, b) => a.seq - b.seq)
    const first = parts[0]!
    // `REFERENCES parent` without columns: the parent's primary key.
    const referenced = parts.every((p) => p.to !== null) ? parts.map((p) => p.to!) : (describeTable(db, first.table)?.primaryKey ?? [])
    const columns = parts.map((p) => p.from)
    return {
      name: names.get(columns.join('\0').toLowerCase()) ?? `${table}_${columns.join('_')}_fkey`,
      columns,
      table: first.table,
      referencedColumns: referenced,
      onDelete: action(first.on_delete),
      onUpdate: action(first.on_update),
    }
  })
}

const action = (text: string): ReferentialAction => (['RESTRICT', 'CASCADE', 'SET NULL', 'SET DEFAULT'].includes(text.toUpperCase()) ? (text.toUpperCase() as ReferentialAction) : 'NO ACTION')

const name = String.raw`"(?:[^"]|"")+"|\`[^\`]+\`|\[[^\]]+\]|\w+`

/** The names SQLite does not keep elsewhere: `CONSTRAINT name FOREIGN KEY (columns)`, by their columns. */
function foreignKeyNames(sql: string): Map<string, string> {
  const names = new Map<string, string>()
  const pattern = new RegExp(`CONSTRAINT\\s+(${name})\\s+FOREIGN\\s+KEY\\s*\\(([^)]*)\\)`, 'gi')
  for (const m of sql.matchAll(pattern)) {
    const columns = m[2]!.split(',').map((c) => unquote(c.trim()))
    names.set(columns.join('\0').toLowerCase(), unquote(m[1]!))
  }
  return names
}

const unquote = (name: string): string =>
  /^["`[]/.test(name) ? name.slice(1, -1).replaceAll('""', '"') : name

/** The CHECK constraints of a CREATE TABLE text, column and table ones, with their names. */
export function checks(table: string, sql: string): CheckInfo[] {
  const found: CheckInfo[] = []
  const pattern = /(?:CONSTRAINT\s+("(?:[^"]|"")+"|`[^`]+`|\[[^\]]+\]|\w+)\s+)?CHECK\s*\(/gi
  for (const m of sql.matchAll(pattern)) {
    const start = m.index + m[0].length
    let depth = 1
    let i = start
    let quote: string | undefined
    for (; i < sql.length && depth > 0; i++) {
      const c = sql[i]!
      if (quote) {
        if (c === quote) quote = undefined
      } else if (c === "'" || c === '"' || c === '`') quote = c
      else if (c === '(') depth++
      else if (c === ')') depth--
    }
    found.push({ name: m[1] ? unquote(m[1]) : `${table}_check${found.length + 1}`, sql: sql.slice(start, i - 1).trim() })
  }
  return found
}
