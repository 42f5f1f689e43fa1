import type { ColumnInfo } from '../../types.js'
import type { SqlSpelling } from './spelling.js'

/** The columns an upsert updates: every written column but the key's. */
export function updatedColumns(columns: readonly ColumnInfo[], key: readonly string[]): readonly ColumnInfo[] {
  const keys = new Set(key)
  return columns.filter((c) => !keys.has(c.name))
}

/**
 * `ON CONFLICT (key) DO UPDATE SET c = excluded.c, …` (PostgreSQL, SQLite): the written columns
 * but the key's take the new values, the others keep theirs; `DO NOTHING` when only key columns
 * are written. The conflict target must be a unique key of exactly these columns.
 */
export function onConflictUpdate(sp: SqlSpelling, columns: readonly ColumnInfo[], key: readonly string[]): string {
  const updates = updatedColumns(columns, key).map((c) => `${sp.quote(c.name)} = excluded.${sp.quote(c.name)}`)
  return `ON CONFLICT (${key.map(sp.quote).join(', ')}) ${updates.length ? `DO UPDATE SET ${updates.join(', ')}` : 'DO NOTHING'}`
}
