import { createHash } from 'node:crypto'
import { quoteIdent } from '../../src/engines/mssql.js'
import type { BulkColumn } from '../../src/engines/mssql-connection.js'
import type { MssqlColumnDetails } from '../../src/engines/mssql-schema.js'
import { codecFor } from '../../src/engines/mssql-values.js'
import { updatedColumns } from '../../src/engines/sql/upsert.js'
import { SinkWriteError } from '../../src/errors.js'
import { faultPoint } from '../../src/faults.js'
import type { WriteTarget } from '../../src/sink.js'
import type { Row } from '../../src/types.js'
import { refusedRows } from '../../src/values.js'

/** The bulk-load columns of a write: each written column with the codec of its SQL Server type. */
export function bulkColumns(target: WriteTarget, details: ReadonlyMap<string, MssqlColumnDetails> | undefined): BulkColumn[] {
  return target.columns.map((c) => ({ name: c.name, codec: codecFor(c, details?.get(c.name)) }))
}

/**
 * The rows the target's columns cannot hold exactly, found before anything is sent: the shared
 * checks (decimal digits, sub-microsecond or sub-`scale` fractions, single-precision floats) and
 * each column's codec (ranges, lengths, code pages, datetime's 1/300 s). A bulk load cannot say
 * which row it refused, so these rows are left out and reported, and the others written.
 */
export function refused(target: WriteTarget, rows: readonly Row[], columns: readonly BulkColumn[]): { index: number; error: SinkWriteError }[] {
  const codecs = new Map(columns.map((c) => [c.name, c.codec]))
  return refusedRows(target, rows, (c) => codecs.get(c.name)!.check)
}

/** Each row as the array of its encoded values, in column order, leaving out the refused ones. */
export function* encodedRows(columns: readonly BulkColumn[], rows: readonly Row[], skip: ReadonlySet<number>): Generator<unknown[]> {
  const half = rows.length >> 1
  for (let i = 0; i < rows.length; i++) {
    if (i === half) faultPoint('sink-write')
    if (skip.has(i)) continue
    const row = rows[i]!
    yield columns.map((c) => {
      const v = row[c.name]
      return v === null || v === undefined ? null : c.codec.encode(v)
    })
  }
}

/** A session temp table for a write target, named by the table and columns it stages. */
export function stageName(target: WriteTarget): string {
  const shape = [target.table, ...target.columns.map((c) => c.name)].join('\0')
  return `#ferry_stage_${createHash('sha1').update(shape).digest('hex').slice(0, 16)}`
}

/**
 * A fresh staging table in the write's transaction (a rollback takes it away with the rest).
 * SELECT … INTO copies the columns' types, collations and nullability; the UNION ALL keeps an
 * IDENTITY property out of the copy, so that the stage takes the rows' own values.
 */
export function stageSql(stage: string, target: WriteTarget): string {
  const columns = target.columns.map((c) => quoteIdent(c.name)).join(', ')
  const table = quoteIdent(target.table)
  return `DROP TABLE IF EXISTS ${stage}; SELECT TOP (0) ${columns} INTO ${stage} FROM ${table} UNION ALL SELECT TOP (0) ${columns} FROM ${table};`
}

const keyMatch = (key: readonly string[]) => key.map((k) => `t.${quoteIdent(k)} = s.${quoteIdent(k)}`).join(' AND ')

/**
 * Upserts the staged rows: UPDATE the rows whose key the target holds (only the written columns
 * but the key's), then INSERT the others, in the caller's transaction. Not MERGE: SQL Server's
 * MERGE has a long record of wrong results and assertion failures (with filtered indexes, indexed
 * views, triggers and foreign keys), needs HOLDLOCK anyway to be safe against a concurrent insert,
 * and fails a whole statement on a key the batch holds twice, as this does. The NOT EXISTS takes
 * key-range locks (UPDLOCK, HOLDLOCK), so that two writers cannot both insert one key.
 */
export function upsertSql(target: WriteTarget, stage: string, identity: boolean): string {
  const table = quoteIdent(target.table)
  const updates = updatedColumns(target.columns, target.key).map((c) => `t.${quoteIdent(c.name)} = s.${quoteIdent(c.name)}`)
  const update = updates.length ? `UPDATE t SET ${updates.join(', ')} FROM ${table} AS t INNER JOIN ${stage} AS s ON ${keyMatch(target.key)}; ` : ''
  const insert = insertFromStage(target, stage, `WHERE NOT EXISTS (SELECT 1 FROM ${table} AS t WITH (UPDLOCK, HOLDLOCK) WHERE ${keyMatch(target.key)})`)
  return update + withIdentityInsert(table, identity, insert)
}

/** Plain inserts from the stage: the path of a table whose IDENTITY column the rows carry. */
export function insertSql(target: WriteTarget, stage: string, identity: boolean): string {
  return withIdentityInsert(quoteIdent(target.table), identity, insertFromStage(target, stage, ''))
}

function insertFromStage(target: WriteTarget, stage: string, where: string): string {
  const columns = target.columns.map((c) => quoteIdent(c.name)).join(', ')
  return `INSERT INTO ${quoteIdent(target.table)} (${columns}) SELECT ${target.columns.map((c) => `s.${quoteIdent(c.name)}`).join(', ')} FROM ${stage} AS s${where ? ` ${where}` : ''};`
}

/**
 * A bulk load cannot keep the values of an IDENTITY column (tedious has no KEEPIDENTITY option:
 * the server would number the rows itself, silently); rows carrying one go through the stage and
 * an INSERT with IDENTITY_INSERT on.
 */
function withIdentityInsert(table: string, identity: boolean, statement: string): string {
  return identity ? `SET IDENTITY_INSERT ${table} ON; ${statement} SET IDENTITY_INSERT ${table} OFF;` : statement
}

/** The error's message with the server's number, and the first of several (tedious' AggregateError). */
export function describeMssqlError(err: unknown, kind: SinkWriteError['kind']): unknown {
  if (err instanceof SinkWriteError || !(err instanceof Error)) return err
  const errors = (err as { errors?: unknown }).errors
  const first = (Array.isArray(errors) && (errors.find((e) => (e as { number?: unknown }).number !== 3621) as Error | undefined)) || err
  const number = (first as { number?: unknown }).number
  return new SinkWriteError(`${first.message}${typeof number === 'number' ? ` (error ${number})` : ''}`, kind, { cause: err })
}
