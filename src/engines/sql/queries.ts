import { keyId } from '../../canonical.js'
import { ConfigError, KeyError, MissingTableError } from '../../errors.js'
import { keyText, tupleFromJson, tupleToJson } from '../../keys.js'
import type { WriteTarget } from '../../sink.js'
import type { Filter, ReadSpec, TableRead } from '../../source.js'
import type { ColumnInfo, Json, KeyTuple, Row, TableSchema } from '../../types.js'
import type { SqlDriver } from './driver.js'
import { type KeyColumns, keyAfter, keyAtLeast, keyAtMost, keyIn, whereOf } from './keyset.js'
import { Params } from './spelling.js'
import { PageSizer } from '../../row-bytes.js'

/** A partition of an SQL table: the keys after `gt` up to and including `lte`; a missing bound is open. */
interface KeyRange {
  readonly gt?: KeyTuple
  readonly lte?: KeyTuple
}

/** The SQL text of a filter; SQL engines take no filter documents. */
export function sqlFilter(engine: string, filter: Filter | undefined): string | undefined {
  if (filter === undefined || typeof filter === 'string') return filter
  throw new ConfigError(`setting \`where\`: the ${engine} source takes SQL text, not ${JSON.stringify(filter)}`)
}

export async function schemaOf(driver: SqlDriver, table: string): Promise<TableSchema> {
  const schema = await driver.describe(table)
  if (!schema) throw new MissingTableError(table, driver.place)
  return schema
}

export function columnsOf(schema: TableSchema, names: readonly string[]): ColumnInfo[] {
  return names.map((name) => {
    const column = schema.columns.find((c) => c.name === name)
    if (!column) throw new ConfigError(`table \`${schema.table}\` has no column \`${name}\``)
    return column
  })
}

const keyColumns = (driver: SqlDriver, schema: TableSchema, key: readonly string[]): KeyColumns => ({
  columns: columnsOf(schema, key),
  param: (v, c) => driver.param(v, c),
})

/**
 * The select list of `names` (every column when undefined): each column by name, or the driver's
 * exact expression for it under the column's name. `*` when no column needs an expression.
 */
function selectList(driver: SqlDriver, schema: TableSchema, names?: readonly string[]): string {
  const sp = driver.spelling
  const columns = names ? columnsOf(schema, names) : schema.columns
  const expressions = columns.map((c) => driver.selectExpression?.(c))
  if (!names && expressions.every((e) => e === undefined)) return '*'
  return columns.map((c, i) => (expressions[i] === undefined ? sp.quote(c.name) : `${expressions[i]} AS ${sp.quote(c.name)}`)).join(', ')
}

/**
 * `ORDER BY` the key's columns, named with the table: an unqualified name would sort by a select
 * expression of the same name (a cast the index does not cover) rather than by the column.
 */
function orderByKey(driver: SqlDriver, table: string, key: readonly string[]): string {
  const sp = driver.spelling
  return ` ORDER BY ${key.map((k) => `${sp.quote(table)}.${sp.quote(k)}`).join(', ')}`
}

export async function countRows(driver: SqlDriver, table: string, filter?: Filter): Promise<number> {
  const where = sqlFilter(driver.engine, filter)
  // The alias is quoted: Oracle would hand an unquoted `n` back as `N`.
  const sp = driver.spelling
  const rows = await driver.query(`SELECT COUNT(*) AS ${sp.quote('n')} FROM ${sp.quote(table)}${whereOf(where ? [where] : [])}`, [])
  return Number(rows[0]!.n)
}

/**
 * Split points at every `every`-th key under the filter (ROW_NUMBER over the key order, so gaps and
 * skew do not matter), as consecutive ranges: (-∞, k1], (k1, k2], …, (kn, +∞).
 */
export async function keyPartitions(driver: SqlDriver, read: TableRead, every?: number): Promise<Json[]> {
  if (every === undefined) return [{}]
  const schema = await schemaOf(driver, read.table)
  const sp = driver.spelling
  const key = read.key.map(sp.quote).join(', ')
  const where = sqlFilter(driver.engine, read.filter)
  const params = new Params(sp)
  const n = params.add(every)
  const rn = sp.quote('ferry_row_number')
  const split = sp.modulo ? sp.modulo(rn, n) : `${rn} % ${n}`
  // The split points are read exactly (the driver's expressions), as the pages compare them.
  const sql =
    `SELECT ${selectList(driver, schema, read.key)} FROM (SELECT ${key}, ROW_NUMBER() OVER (ORDER BY ${key}) AS ${rn} FROM ${sp.quote(read.table)}${whereOf(where ? [where] : [])}) s ` +
    `WHERE ${split} = 0 ORDER BY ${rn}`
  const rows = await driver.query(sql, params.values)
  const decode = driver.decoder(schema)
  let gt: Json | undefined
  const partitions: Json[] = []
  for (const row of rows) {
    decode(row)
    const lte = tupleToJson(read.key.map((k) => row[k]))
    partitions.push(gt === undefined ? { lte } : { gt, lte })
    gt = lte
  }
  partitions.push(gt === undefined ? {} : { gt })
  return partitions
}

function rangeOf(partition: Json): KeyRange {
  const p = (partition ?? {}) as { gt?: Json; lte?: Json }
  return {
    ...(p.gt !== undefined && { gt: tupleFromJson(p.gt) }),
    ...(p.lte !== undefined && { lte: tupleFromJson(p.lte) }),
  }
}

export async function hasNullKey(driver: SqlDriver, read: TableRead, columns: readonly string[]): Promise<boolean> {
  if (columns.length === 0) return false
  const sp = driver.spelling
  const where = sqlFilter(driver.engine, read.filter)
  const nulls = columns.map((c) => `${sp.quote(c)} IS NULL`).join(' OR ')
  const params = new Params(sp)
  const sql = sp.limit(`SELECT 1 AS found FROM ${sp.quote(read.table)}${whereOf([...(where ? [where] : []), nulls])}`, params.add(1))
  return (await driver.query(sql, params.values)).length > 0
}

/**
 * The `SELECT … ORDER BY key` of a partition's rows after `after` (from `after` on with
 * `overlap`), up to the partition's end, under the filter; its parameters are added to `params`.
 */
export function keysetSelect(driver: SqlDriver, schema: TableSchema, spec: ReadSpec, after: KeyTuple | undefined, overlap: boolean, params: Params): string {
  const sp = driver.spelling
  const key = keyColumns(driver, schema, spec.key)
  const range = rangeOf(spec.partition)
  const where = sqlFilter(driver.engine, spec.filter)
  const columns = selectList(driver, schema, spec.columns && [...new Set([...spec.key, ...spec.columns])])
  const conditions = where ? [where] : []
  if (after) conditions.push((overlap ? keyAtLeast : keyAfter)(key, after, params))
  if (range.lte) conditions.push(keyAtMost(key, range.lte, params))
  return `SELECT ${columns} FROM ${sp.quote(spec.table)}${whereOf(conditions)}${orderByKey(driver, spec.table, spec.key)}`
}

/** Where a partition's read starts: after the position, else after the partition's lower bound (undefined: its start). */
export function readStart(spec: ReadSpec): KeyTuple | undefined {
  return spec.after !== undefined ? tupleFromJson(spec.after) : rangeOf(spec.partition).gt
}

/**
 * Reads one partition in key order from a position, in pages: through the driver's cursor when it
 * has one (one query), else by keyset (`WHERE key > last ORDER BY key LIMIT n`, one query a page,
 * so an abandoned read holds nothing open). Each page reports its last key as the position.
 */
export async function* keysetPages(driver: SqlDriver, spec: ReadSpec): AsyncGenerator<{ rows: Row[]; position: Json }> {
  const schema = await schemaOf(driver, spec.table)
  const key = keyColumns(driver, schema, spec.key)
  const decode = driver.decoder(schema)
  const sp = driver.spelling
  const select = (after: KeyTuple | undefined, overlap: boolean, params: Params) => keysetSelect(driver, schema, spec, after, overlap, params)
  let after = readStart(spec)
  const page = (rows: Row[]) => {
    after = spec.key.map((k) => rows[rows.length - 1]![k])
    return { rows, position: tupleToJson(after) }
  }
  // An asserted key reads from `>= after` and drops the row it already has: a second row with that
  // key, on a page boundary or at a resume position, then reaches the reader instead of being skipped.
  const overlap = spec.verifyUnique === true
  const dropSeen = (rows: Row[], seen: KeyTuple) => {
    if (rows.length && sameKey(rows[0]!, seen)) rows.shift()
    if (rows.length && sameKey(rows[0]!, seen)) {
      const names = spec.key.map((k) => `\`${k}\``).join(', ')
      throw new KeyError(`source table \`${spec.table}\` has two rows with key ${keyText(seen)}: the key (${names}) asserted unique is not; choose key columns that are`)
    }
  }
  // Pages of `pageSize` rows, fewer when they are wide: a page holds about `pageBytes` bytes.
  const sizer = new PageSizer(spec.pageSize, spec.pageBytes)
  if (driver.cursor) {
    const params = new Params(sp)
    const first = after
    let firstPage = true
    for await (const rows of driver.cursor(select(after, overlap && first !== undefined, params), params.values, () => sizer.next)) {
      sizer.saw(rows)
      for (const row of rows) decode(row)
      if (firstPage && overlap && first) dropSeen(rows, first)
      firstPage = false
      if (rows.length) yield page(rows)
    }
    return
  }
  for (;;) {
    const params = new Params(sp)
    const seen = overlap ? after : undefined
    const sql = select(after, seen !== undefined, params)
    const limit = sizer.next + (seen ? 1 : 0)
    const rows = await driver.query(sp.limit(sql, params.add(limit)), params.values)
    const full = rows.length === limit
    sizer.saw(rows)
    for (const row of rows) decode(row)
    if (seen) dropSeen(rows, seen)
    if (rows.length) yield page(rows)
    if (!full) return
  }

  function sameKey(row: Row, tuple: KeyTuple): boolean {
    return keyId(spec.key.map((k) => row[k]), key.columns) === keyId(tuple, key.columns)
  }
}

/** Target rows by key, in groups of `perQuery` keys, with the target's columns, decoded. */
export async function lookupRows(driver: SqlDriver, target: WriteTarget, keys: readonly KeyTuple[], perQuery = 500): Promise<Row[]> {
  const schema: TableSchema = { table: target.table, columns: target.columns, primaryKey: target.key, uniqueKeys: [target.key] }
  const { key } = target
  const columns = target.columns.map((c) => c.name)
  const sp = driver.spelling
  const kc = keyColumns(driver, schema, key)
  const decode = driver.decoder(schema)
  // Read as a source reads them (the driver's exact expressions), so that values compare as stored.
  const names = selectList(driver, schema, [...new Set([...key, ...columns])])
  const found: Row[] = []
  for (let i = 0; i < keys.length; i += perQuery) {
    const params = new Params(sp)
    const sql = `SELECT ${names} FROM ${sp.quote(schema.table)} WHERE ${keyIn(kc, keys.slice(i, i + perQuery), params)}`
    const rows = await driver.query(sql, params.values)
    for (const row of rows) decode(row)
    found.push(...rows)
  }
  return found
}
