import { quoteIdent } from '../../src/engines/oracle.js'
import { bindFor, type OracleBind, type OracleBindType } from '../../src/engines/oracle-values.js'
import { updatedColumns } from '../../src/engines/sql/upsert.js'
import { SinkWriteError } from '../../src/errors.js'
import { faultPoint } from '../../src/faults.js'
import type { WriteTarget } from '../../src/sink.js'
import type { Row } from '../../src/types.js'
import { refusedRows } from '../../src/values.js'

export interface ColumnBind {
  readonly name: string
  readonly bind: OracleBind
}

/** Each written column with its bind, from its Oracle type (and the database's code page). */
export function columnBinds(target: WriteTarget, codePage: number): ColumnBind[] {
  return target.columns.map((c) => ({ name: c.name, bind: bindFor(c, codePage) }))
}

/**
 * The rows a column cannot hold exactly, found before anything is sent: the shared checks (decimal
 * digits, fractions finer than the column's, single-precision floats) and each column's bind
 * (NUMBER's digits, the empty string and zero bytes that Oracle stores as NULL, CHAR padding,
 * characters the database character set lacks).
 */
export function refused(target: WriteTarget, rows: readonly Row[], binds: readonly ColumnBind[]): { index: number; error: SinkWriteError }[] {
  const byName = new Map(binds.map((b) => [b.name, b.bind.check]))
  return refusedRows(target, rows, (c) => byName.get(c.name))
}

/** `INSERT INTO "t" ("a", "b") VALUES (TO_NUMBER(:1), :2)`, one row's binds. */
export function insertSql(target: WriteTarget, binds: readonly ColumnBind[]): string {
  const names = binds.map((b) => quoteIdent(b.name)).join(', ')
  return `INSERT INTO ${quoteIdent(target.table)} (${names}) VALUES (${binds.map((b, i) => b.bind.sql(`:${i + 1}`)).join(', ')})`
}

/**
 * One row's upsert: MERGE on the target key, updating the written columns but the key's (Oracle
 * has no INSERT … ON CONFLICT; MERGE is its upsert, and refuses to update the columns it joins on).
 * Only key columns written: no WHEN MATCHED, a row already there is left as it is.
 */
export function mergeSql(target: WriteTarget, binds: readonly ColumnBind[]): string {
  const q = quoteIdent
  const source = binds.map((b, i) => `${b.bind.sql(`:${i + 1}`)} AS ${q(b.name)}`).join(', ')
  const on = target.key.map((k) => `t.${q(k)} = s.${q(k)}`).join(' AND ')
  const updates = updatedColumns(target.columns, target.key).map((c) => `t.${q(c.name)} = s.${q(c.name)}`)
  const matched = updates.length ? ` WHEN MATCHED THEN UPDATE SET ${updates.join(', ')}` : ''
  const names = binds.map((b) => q(b.name))
  return (
    `MERGE INTO ${q(target.table)} t USING (SELECT ${source} FROM dual) s ON (${on})${matched} ` +
    `WHEN NOT MATCHED THEN INSERT (${names.join(', ')}) VALUES (${names.map((n) => `s.${n}`).join(', ')})`
  )
}

/** A batch as `executeMany` takes it: the rows sent (their indexes in the batch), their binds, and each bind's type and size. */
export interface BatchBinds {
  readonly sent: number[]
  readonly values: unknown[][]
  readonly defs: { type: OracleBindType; maxSize?: number }[]
}

export function batchBinds(binds: readonly ColumnBind[], rows: readonly Row[], skip: ReadonlySet<number>): BatchBinds {
  const sent: number[] = []
  const values: unknown[][] = []
  const sizes = binds.map(() => 1)
  const half = rows.length >> 1
  for (let i = 0; i < rows.length; i++) {
    if (i === half) faultPoint('sink-write')
    if (skip.has(i)) continue
    const row = rows[i]!
    values.push(
      binds.map((b, c) => {
        const v = row[b.name]
        if (v === null || v === undefined) return null
        const encoded = b.bind.encode(v)
        if (b.bind.sized) sizes[c] = Math.max(sizes[c]!, typeof encoded === 'string' ? Buffer.byteLength(encoded) : (encoded as Buffer).length)
        return encoded
      }),
    )
    sent.push(i)
  }
  const defs = binds.map((b, c) => ({ type: b.bind.type, ...(b.bind.sized && { maxSize: sizes[c] }) }))
  return { sent, values, defs }
}

/** A driver error as a `SinkWriteError` of the given kind, keeping the driver's message and the error as its cause. */
export function describeOracleError(err: unknown, kind: SinkWriteError['kind']): unknown {
  if (err instanceof SinkWriteError || !(err instanceof Error)) return err
  // Thin mode adds a help URL on a second line; the first says what happened.
  return new SinkWriteError(err.message.split('\n')[0]!, kind, { cause: err })
}
