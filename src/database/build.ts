import type { SchemaWriter } from '../catalog.js'
import { messageOf } from '../errors.js'
import { faultPoint } from '../faults.js'
import { sameSet } from '../keys.js'
import type { Logger } from '../log.js'
import type { ForeignKeyInfo, IndexInfo, TableSchema } from '../types.js'
import type { SavedSchema } from './schema-file.js'

/** Whether the table has this index, by name or by the same columns and uniqueness. */
export function hasIndex(table: TableSchema | undefined, index: IndexInfo): boolean {
  const names = (i: IndexInfo) => i.columns.map((c) => c.name)
  return (table?.indexes ?? []).some((i) => i.name === index.name || (i.unique === index.unique && sameList(names(i), names(index))))
}

/** Whether the table has this foreign key, by name or by the same columns and references. */
export function hasForeignKey(table: TableSchema | undefined, fk: ForeignKeyInfo): boolean {
  return (table?.foreignKeys ?? []).some(
    (f) => f.name === fk.name || (f.table === fk.table && sameList(f.columns, fk.columns) && sameSet(f.referencedColumns, fk.referencedColumns)),
  )
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i])

/** What failed to build, by object, with the target's reason. */
export type BuildFailures = Map<string, string>

/**
 * Builds the saved indexes the target lacks, `writers.length` at a time (one connection each),
 * then the foreign keys one by one (each takes locks on two tables), then sets identity sequences
 * past the largest values. Every object is attempted; failures are returned, not thrown.
 */
export async function buildSchema(saved: SavedSchema, writers: readonly SchemaWriter[], logger: Logger): Promise<BuildFailures> {
  const failures: BuildFailures = new Map()
  const writer = writers[0]!
  const tables = new Map((await writer.catalog()).tables.map((t) => [t.table, t]))
  const started = Date.now()
  const indexes = saved.indexes.filter((i) => !hasIndex(tables.get(i.table), i.index))
  let next = 0
  let built = 0
  await Promise.all(
    writers.map(async (w) => {
      while (next < indexes.length) {
        const { table, index } = indexes[next++]!
        try {
          await w.createIndex(table, index)
          built++
          faultPoint('schema-build')
        } catch (err) {
          failures.set(`index \`${index.name}\` on \`${table}\``, messageOf(err))
        }
      }
    }),
  )
  if (built) logger.info(`built ${built} index(es) in ${((Date.now() - started) / 1000).toFixed(2)} s${writers.length > 1 ? ` (${writers.length} at a time)` : ''}`)
  const fkStarted = Date.now()
  let added = 0
  for (const { table, fk } of saved.foreignKeys) {
    if (writer.inlineForeignKeys || hasForeignKey(tables.get(table), fk)) continue
    try {
      await writer.addForeignKey(table, fk)
      added++
      faultPoint('schema-build')
    } catch (err) {
      failures.set(`foreign key \`${fk.name}\` of \`${table}\` → \`${fk.table}\``, messageOf(err))
    }
  }
  if (added) logger.info(`added ${added} foreign key(s) in ${((Date.now() - fkStarted) / 1000).toFixed(2)} s`)
  for (const { table, column } of saved.identities) {
    try {
      await writer.resetIdentity(table, column)
    } catch (err) {
      failures.set(`the identity of \`${table}.${column}\``, messageOf(err))
    }
  }
  if (writer.orphans) {
    for (const table of new Set(saved.foreignKeys.map((f) => f.table))) {
      const orphans = await writer.orphans(table)
      if (orphans.length) failures.set(`foreign keys of \`${table}\``, orphans.join('; '))
    }
  }
  return failures
}
