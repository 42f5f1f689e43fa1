import cassandra from 'cassandra-driver'
import { keyId } from '../../src/canonical.js'
import type { CassandraConnection } from '../../src/engines/cassandra/cassandra-connection.js'
import { quote } from '../../src/engines/cassandra/cassandra-connection.js'
import { classifyCassandraError } from '../../src/engines/cassandra/cassandra-errors.js'
import type { CassandraTable } from '../../src/engines/cassandra/cassandra-schema.js'
import { encodeValue, Refusal } from '../../src/engines/cassandra/cassandra-values.js'
import { messageOf, SinkWriteError } from '../../src/errors.js'
import { faultPoint } from '../../src/faults.js'
import { keyOf, keyText } from '../../src/keys.js'
import type { WriteKind, WriteResult, WriteTarget } from '../../src/sink.js'
import type { ColumnInfo, Row } from '../../src/types.js'
import { refusedRows } from '../../src/values.js'

/** Rows of one partition per unlogged batch, at most; and bytes, about (Cassandra warns past 5 KiB, fails past 50 KiB by default). */
const batchRows = 50
const batchBytes = 40 * 1024

/** One statement of a write: a row, or rows of one partition in an unlogged batch. */
interface Task {
  readonly rows: readonly number[]
  readonly bytes: number
}

/**
 * Writes a batch of rows as prepared INSERTs (upserts by nature), `concurrency` statements in
 * flight: rows that share a partition key go together in unlogged batches (one mutation on one
 * replica set, the one case where a batch is cheaper than single writes), the others alone.
 * Rows a column cannot hold exactly, and rows the server refuses, are reported by index
 * (`WriteResult`): Cassandra has no transaction to roll back, so the others stay written. A
 * transient failure (a timeout, too few replicas) fails the write, which the core retries as
 * upserts. With `ifNotExists`, inserts are `INSERT … IF NOT EXISTS` one row at a time (a
 * lightweight transaction: Paxos rounds, several times slower), and a key already there is a
 * refused row.
 */
export async function writeRows(connection: CassandraConnection, table: CassandraTable, target: WriteTarget, rows: readonly Row[], kind: WriteKind): Promise<WriteResult> {
  const settings = connection.settings
  const refused = new Map<number, unknown>(refusedRows(target, rows).map((r) => [r.index, r.error]))
  const columns = target.columns
  const types = columns.map((c) => table.types.get(c.name)!)
  const values: unknown[][] = []
  rows.forEach((row, i) => {
    if (refused.has(i)) return
    const encoded: unknown[] = []
    for (const [j, c] of columns.entries()) {
      const value = row[c.name]
      try {
        encoded.push(value === null && settings.nulls === 'unset' ? cassandra.types.unset : encodeValue(value, types[j]!, c))
      } catch (err) {
        if (!(err instanceof Refusal)) throw err
        const key = keyText(keyOf(row, target.key))
        return void refused.set(i, new SinkWriteError(`column \`${c.name}\` of the row with key ${key} cannot hold the value exactly: ${err.message}`, 'rejected'))
      }
    }
    values[i] = encoded
  })
  const lwt = kind === 'insert' && settings.ifNotExists
  const insert = `INSERT INTO ${connection.table(table.schema.table)} (${columns.map((c) => quote(c.name)).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})${lwt ? ' IF NOT EXISTS' : ''}`
  const tasks = plan(table, target, rows, values, lwt)
  const failures: unknown[] = []
  const name = (i: number) => `the row with key ${keyText(keyOf(rows[i]!, target.key))}`
  const single = async (i: number) => {
    try {
      const result = await connection.execute(insert, values[i]!)
      if (lwt && result.rows[0]?.['[applied]'] === false) {
        refused.set(i, new SinkWriteError(`${name(i)} is in the target already (INSERT … IF NOT EXISTS was not applied)`, 'rejected'))
      }
    } catch (err) {
      if (classifyCassandraError(err) !== 'rejected') failures.push(err)
      else refused.set(i, new SinkWriteError(`${messageOf(err)} (${name(i)})`, 'rejected', { cause: err }))
    }
  }
  let done = 0
  const run = async (task: Task) => {
    if (task.rows.length === 1) await single(task.rows[0]!)
    else {
      try {
        await connection.batch(task.rows.map((i) => ({ query: insert, params: values[i]! })))
      } catch (err) {
        // A refused batch is written again row by row, to find the rows it was refused for.
        if (classifyCassandraError(err) !== 'rejected') failures.push(err)
        else for (const i of task.rows) await single(i)
      }
    }
    // A crash halfway through: the statements sent so far are in, the rest never arrive.
    if (++done === Math.max(1, tasks.length >> 1)) faultPoint('sink-write')
  }
  await inParallel(tasks, settings.concurrency, run)
  if (failures.length) throw failures.find((f) => classifyCassandraError(f) === 'fatal') ?? failures[0]
  return { rejected: [...refused].sort(([a], [b]) => a - b).map(([index, error]) => ({ index, error })) }
}

/** The statements of a write: rows of one partition together (at most `batchRows` rows and about `batchBytes`), others alone. */
function plan(table: CassandraTable, target: WriteTarget, rows: readonly Row[], values: readonly (unknown[] | undefined)[], lwt: boolean): Task[] {
  const tasks: Task[] = []
  const batching = !lwt && table.clustering.length > 0 && table.partitionKey.every((k) => target.key.includes(k))
  const partition = table.partitionKey.map((k) => target.columns.find((c) => c.name === k)!) as ColumnInfo[]
  const open = new Map<string, { rows: number[]; bytes: number }>()
  values.forEach((v, i) => {
    if (!v) return
    const bytes = size(v)
    if (!batching) return void tasks.push({ rows: [i], bytes })
    const id = keyId(keyOf(rows[i]!, table.partitionKey), partition)
    const group = open.get(id)
    if (group && group.rows.length < batchRows && group.bytes + bytes <= batchBytes) {
      group.rows.push(i)
      group.bytes += bytes
      return
    }
    if (group) tasks.push(group)
    open.set(id, { rows: [i], bytes })
  })
  tasks.push(...open.values())
  return tasks
}

function size(values: readonly unknown[]): number {
  let bytes = 0
  for (const v of values) bytes += typeof v === 'string' ? v.length * 3 : v instanceof Buffer ? v.length : 16
  return bytes
}

async function inParallel<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
