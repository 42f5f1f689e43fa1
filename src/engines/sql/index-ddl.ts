import type { IndexInfo } from '../../types.js'
import type { SqlSpelling } from './spelling.js'

/**
 * `CREATE [UNIQUE] INDEX name ON table (a, b DESC)`; MySQL adds prefix lengths and its FULLTEXT and
 * SPATIAL kinds, and has no IF NOT EXISTS (the writers check the name first).
 */
export function createIndexSql(sp: SqlSpelling, table: string, index: IndexInfo, mysql: boolean): string {
  const kind = index.unique ? 'UNIQUE ' : index.kind === 'fulltext' ? 'FULLTEXT ' : index.kind === 'spatial' ? 'SPATIAL ' : ''
  const columns = index.columns.map((c) => `${sp.quote(c.name)}${mysql && c.length ? `(${c.length})` : ''}${c.descending ? ' DESC' : ''}`)
  return `CREATE ${kind}INDEX ${mysql ? '' : 'IF NOT EXISTS '}${sp.quote(index.name)} ON ${sp.quote(table)} (${columns.join(', ')})`
}
