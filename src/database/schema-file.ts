import { rm } from 'node:fs/promises'
import { readIfThere } from '../checkpoint-file.js'
import { writeAtomically } from '../checkpoint.js'
import { FerryError, messageOf } from '../errors.js'
import type { ForeignKeyInfo, IndexInfo } from '../types.js'

/** A whole-database copy's schema objects that are not on the target, whatever ended the run. */
export class SchemaNotBuiltError extends FerryError {}

/**
 * What a whole-database copy builds after its data, kept in a file of its own beside the
 * checkpoints (`<pipeline>.schema.json`) as `deferIndexes` keeps its indexes: written atomically
 * before the first table is touched, and before any foreign key of the target is dropped; removed
 * only once everything in it is on the target. A run killed at any point, resumed or started
 * afresh, builds what the file lists.
 */
export interface SavedSchema {
  readonly version: 1
  /** The target database (credentials redacted): a file of another target is refused. */
  readonly target: string
  readonly indexes: readonly { readonly table: string; readonly index: IndexInfo }[]
  /** `target`: a foreign key the target had, dropped for the load; `source`: one the copy adds. */
  readonly foreignKeys: readonly { readonly table: string; readonly fk: ForeignKeyInfo; readonly origin: 'source' | 'target' }[]
  readonly identities: readonly { readonly table: string; readonly column: string }[]
}

export const schemaFile = (checkpointDir: string, pipeline: string): string => `${checkpointDir}/${pipeline}.schema.json`

export async function readSchemaFile(file: string, target: string): Promise<SavedSchema | undefined> {
  const text = await readIfThere(file)
  if (text === undefined) return undefined
  let saved: SavedSchema
  try {
    saved = JSON.parse(text) as SavedSchema
    if (saved.version !== 1) throw new Error(`version ${String(saved.version)} is not this ferry's format (1)`)
  } catch (err) {
    throw new SchemaNotBuiltError(`${file}, which lists the indexes and foreign keys still to build, cannot be read: ${messageOf(err)}; build them by hand and delete it`)
  }
  if (saved.target !== target) {
    throw new SchemaNotBuiltError(
      `${file} lists ${saved.indexes.length} index(es) and ${saved.foreignKeys.length} foreign key(s) still to build on \`${saved.target}\`, not on this run's \`${target}\`; run against that database to build them, or build them by hand and delete the file`,
    )
  }
  return saved
}

export async function writeSchemaFile(file: string, saved: SavedSchema): Promise<void> {
  await writeAtomically(file, JSON.stringify(saved, null, 2), 'schema-write')
}

export async function removeSchemaFile(file: string): Promise<void> {
  await rm(file, { force: true })
}

/** Both lists, the later one winning for an object of the same table and name. */
export function mergeSchemas(older: SavedSchema | undefined, newer: SavedSchema): SavedSchema {
  if (!older) return newer
  const key = (table: string, name: string) => `${table}\0${name}`
  const indexes = new Set(newer.indexes.map((i) => key(i.table, i.index.name)))
  const fks = new Set(newer.foreignKeys.map((f) => key(f.table, f.fk.name)))
  const ids = new Set(newer.identities.map((i) => key(i.table, i.column)))
  return {
    ...newer,
    indexes: [...older.indexes.filter((i) => !indexes.has(key(i.table, i.index.name))), ...newer.indexes],
    foreignKeys: [...older.foreignKeys.filter((f) => !fks.has(key(f.table, f.fk.name))), ...newer.foreignKeys],
    identities: [...older.identities.filter((i) => !ids.has(key(i.table, i.column))), ...newer.identities],
  }
}
