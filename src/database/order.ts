import type { TableSchema } from '../types.js'

/**
 * Tables with the ones their foreign keys reference first (Kahn's algorithm, ties by name). A
 * cycle is broken at the table of the cycle whose name sorts first: its foreign keys are added
 * after all the data anyway. Self-references do not count.
 */
export function foreignKeyOrder(tables: readonly TableSchema[]): TableSchema[] {
  const names = new Set(tables.map((t) => t.table))
  const parents = new Map(tables.map((t) => [t.table, new Set((t.foreignKeys ?? []).map((f) => f.table).filter((p) => p !== t.table && names.has(p)))]))
  const left = [...tables].sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0))
  const ordered: TableSchema[] = []
  const placed = new Set<string>()
  while (left.length) {
    const ready = left.findIndex((t) => [...parents.get(t.table)!].every((p) => placed.has(p)))
    const [next] = left.splice(ready === -1 ? 0 : ready, 1)
    ordered.push(next!)
    placed.add(next!.table)
  }
  return ordered
}

/** Glob patterns (`*`, `?`) matched against a whole table name. */
export function matches(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`).test(name))
}
