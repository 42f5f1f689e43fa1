import { join } from 'node:path'
import { z } from 'zod'
import { ConfigError } from './errors.js'
import { checkEndpoint, engineOf, knownEngines, schemeHint } from './engines/registry.js'
import { redact } from './redact.js'
import type { Sink, WriteMode } from './sink.js'
import type { ConnectionOptions, Endpoint } from './endpoint.js'
import type { Filter, Source } from './source.js'

export type { ConnectionOptions, Endpoint }
import type { Row, TableSchema } from './types.js'

export const strategies = ['streaming', 'chunked', 'parallel', 'distributed'] as const
export type StrategyName = (typeof strategies)[number]

/** Maps a source row to the target row; returning null or undefined drops the row (counted as skipped). */
export type RowTransform<S extends object = Row, T extends object = Row> = (
  row: S,
) => T | null | undefined | Promise<T | null | undefined>

/** What a pipeline file passes to `definePipeline`. Every setting but the three first has a default. */
export interface PipelineSettings<S extends object = Row, T extends object = S> {
  source: Endpoint<Source>
  target: Endpoint<Sink>
  /** Required unless `tables` lists the tables. */
  sourceTable?: string
  /** Defaults to `sourceTable`. */
  targetTable?: string
  /**
   * The source's key: a column or a list of columns, unique and not null. Rows are read in its
   * order. Default: the source table's primary key (else its first unique key over NOT NULL columns).
   */
  primaryKey?: string | string[]
  /**
   * The key in the target, unique there: the column(s) a row is found and upserted by. The transform
   * may rename or change it. Default: `primaryKey` (the source key's columns).
   */
  targetKey?: string | string[]
  /**
   * The key is unique although the source does not declare it (a view, a table without a
   * constraint): ferry then checks it while reading and stops at the first two equal keys.
   */
  assertUniqueKey?: boolean
  strategy?: StrategyName
  /**
   * The distributed strategy's queue: a Redis URL (`redis://host:6379/0`) where the planner puts one
   * job per chunk and `ferry worker` processes take them. Redis must run with `maxmemory-policy noeviction`.
   */
  queue?: string
  /** The BullMQ queue's name in that Redis; workers listen on the same name. Default `ferry`. */
  queueName?: string
  /** Rows per chunk for the chunked, parallel and distributed strategies (and per validation chunk). Default 10000. */
  chunkSize?: number
  numWorkers?: number
  /** Rows per sink write (one transaction, one retry unit). Default 1000. */
  batchSize?: number
  /**
   * Bytes per sink write, about: a batch ends at `batchSize` rows or at this many bytes, whichever
   * comes first, so memory follows a byte budget whatever the row width. Default 4 MiB (4194304).
   */
  batchBytes?: number
  /**
   * Same-engine copies without a transform pass the source's own bulk text through (PostgreSQL:
   * `COPY … TO STDOUT` into `COPY … FROM STDIN`), never decoding a row, when the columns fit
   * (`--dry-run` says which path a table takes). `false` always decodes rows. Default true.
   */
  passthrough?: boolean
  /** Which source rows to move: SQL text for the SQL engines. */
  where?: Filter
  transform?: RowTransform<S, T>
  /** `true` or `'count'` compares row counts; `'checksum'` also compares every row's content. */
  validate?: boolean | 'count' | 'checksum'
  /** Target columns left out of checksums, e.g. a `migrated_at` the transform stamps. */
  validateIgnore?: string[]
  /** Filter for the target side of validation counts; default: the whole target table. */
  targetWhere?: string
  writeMode?: WriteMode
  skipExisting?: boolean
  onRejectedRow?: 'fail' | 'skip'
  /**
   * With `onRejectedRow: 'skip'`: how many refused rows the run accepts, a count (a whole number)
   * or a fraction of the source rows below 1 (`0.01`). Beyond it the run fails; within it the run
   * ends SUCCESS_WITH_REJECTS (exit 0). Unset, refused rows end the run REJECTED_ROWS (exit 1).
   */
  maxRejectedRows?: number
  checkpoints?: boolean
  /** Rows between checkpoint writes; a chunk's end always writes one. Default 100000. */
  checkpointInterval?: number
  resume?: boolean
  maxRetries?: number
  /** Milliseconds before the first retry; doubles with each attempt. Default 5000. */
  retryDelay?: number
  /** Milliseconds between progress lines. Default 5000. */
  progressInterval?: number
  checkpointDir?: string
  logDir?: string
  reportDir?: string
  logLevel?: 'silent' | 'error' | 'warn' | 'info' | 'debug'
  /** Runs before the load (of this table, or of the whole pipeline), with the target at hand. */
  before?: StepFunction
  /** Runs after a successful load, before validation; not after a failed one. */
  after?: StepFunction
  /** Drop the target's secondary indexes before a fresh load and build them after it. */
  deferIndexes?: boolean
  /**
   * Several tables, run in order: a table name, or settings overriding the ones above for that
   * table (`{ sourceTable: 'orders', where: … }`). `'all'`: the whole database, every table of the
   * source (see `include`, `exclude`), in foreign-key order, with its keys, indexes, foreign keys,
   * checks, defaults and identity columns.
   */
  tables?: (string | TableSettings)[] | 'all'
  /** With `tables: 'all'`: glob patterns (`film*`) of the source tables to copy; default every table. */
  include?: string[]
  /** With `tables: 'all'`: glob patterns of the source tables to leave out. */
  exclude?: string[]
  /** With `tables: 'all'`: settings of named tables, by source table (`{ orders: { where: … } }`). */
  tableSettings?: Record<string, Partial<Omit<PipelineSettings<any, any>, 'tables' | 'sourceTable'>>>
  /** With `tables: 'all'`: `lower` folds every name to lower case on the target (default `keep`). */
  identifierCase?: 'keep' | 'lower'
  /** With `tables: 'all'`: MySQL zero dates (`0000-00-00`) are refused rows (`refuse`, default) or NULL (`null`). */
  zeroDates?: 'refuse' | 'null'
  /** With `tables: 'all'`: MySQL tinyint(1) is a boolean where every value is 0/1, else a small integer (`auto`, default); or always `boolean` / `integer`. */
  tinyint1?: 'auto' | 'boolean' | 'integer'
  /** With `tables: 'all'`: geometry columns on a target without geometry types are refused (`refuse`, default) or copied as EWKT text (`text`). */
  spatial?: 'refuse' | 'text'
}

/** One table of a multi-table pipeline: any setting, with `sourceTable` required. */
// `any` rows: each table has its own row types, checked where the entry is written (`defineTable`).
export type TableSettings = Partial<Omit<PipelineSettings<any, any>, 'tables'>> & { sourceTable: string }

/** What a `before` or `after` step gets: the target connection and a way to run SQL on it. */
export interface StepContext {
  readonly target: Sink
  /** Runs one statement on the target (`ANALYZE users`, `ALTER TABLE … DISABLE TRIGGER ALL`). */
  readonly sql: (statement: string) => Promise<void>
  /** The table the step belongs to; undefined for the pipeline's own steps. */
  readonly table?: string
  readonly log: (message: string) => void
}

export type StepFunction = (ctx: StepContext) => Promise<void> | void

const wholeNumber = z.number({ error: 'expected a number' }).int({ error: 'expected a whole number' })
const positiveInt = wholeNumber.positive({ error: 'expected a whole number above 0' })
const nonNegativeInt = wholeNumber.nonnegative({ error: 'expected a whole number, 0 or more' })
const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', 'expected a function')
const url = z.string().refine((v) => engineOf(v) !== undefined, {
  error: (issue) => `expected a URL whose scheme is one of ${knownEngines.join(', ')} (e.g. sqlite:data/app.db)${schemeHint(issue.input)}`,
})
const connectionOptions = z.looseObject({
  engine: z.enum(knownEngines as [string, ...string[]]),
})
const endpoint = z.union([url, connectionOptions, fn])
const identifier = z.string().min(1)
const columns = z
  .union([identifier, z.array(identifier).min(1, { error: 'expected at least one column' })])
  .transform((v) => (typeof v === 'string' ? [v] : v))
  .refine((v) => new Set(v).size === v.length, { message: 'a column is named twice' })
const filter = z.union([z.string().trim().min(1), z.record(z.string(), z.unknown())])

const maxBatchSize = 1_000_000

const schema = z.strictObject({
  source: endpoint,
  target: endpoint,
  sourceTable: identifier,
  targetTable: identifier.optional(),
  primaryKey: columns.optional(),
  targetKey: columns.optional(),
  assertUniqueKey: z.boolean().default(false),
  strategy: z.enum(strategies).default('chunked'),
  queue: z.string().regex(/^rediss?:\/\//, { error: 'expected a Redis URL (redis://host:6379/0)' }).optional(),
  queueName: z.string().regex(/^[\w.-]+$/, { error: 'expected letters, digits, `_`, `.` or `-`' }).default('ferry'),
  chunkSize: positiveInt.default(10_000),
  numWorkers: positiveInt.max(64).default(4),
  batchSize: positiveInt.max(maxBatchSize).default(1000),
  batchBytes: positiveInt.default(4 * 1024 * 1024),
  passthrough: z.boolean().default(true),
  where: filter.optional(),
  transform: fn.optional(),
  validate: z.union([z.boolean(), z.enum(['count', 'checksum'])]).default(true),
  validateIgnore: z.array(identifier).default([]),
  targetWhere: z.string().trim().min(1).optional(),
  writeMode: z.enum(['upsert', 'insert', 'truncate', 'recreate']).default('upsert'),
  skipExisting: z.boolean().default(false),
  onRejectedRow: z.enum(['fail', 'skip']).default('fail'),
  maxRejectedRows: z
    .number({ error: 'expected a number' })
    .nonnegative({ error: 'expected a count (a whole number) or a fraction below 1' })
    .refine((v) => v < 1 || Number.isInteger(v), { message: 'expected a count (a whole number) or a fraction below 1' })
    .optional(),
  checkpoints: z.boolean().default(true),
  checkpointInterval: positiveInt.default(100_000),
  resume: z.boolean().default(false),
  maxRetries: nonNegativeInt.max(100).default(3),
  retryDelay: nonNegativeInt.default(5000),
  progressInterval: positiveInt.default(5000),
  checkpointDir: z.string().min(1).default('.ferry/checkpoints'),
  logDir: z.string().min(1).default('logs'),
  reportDir: z.string().min(1).default('reports'),
  logLevel: z.enum(['silent', 'error', 'warn', 'info', 'debug']).default('info'),
  before: fn.optional(),
  after: fn.optional(),
  deferIndexes: z.boolean().default(false),
})

/**
 * Settings after validation, with every default filled in but the keys, which the source's schema
 * decides when they are not set (see `resolveKeys`).
 */
export type ResolvedSettings = Omit<
  z.output<typeof schema>,
  'source' | 'target' | 'transform' | 'targetTable' | 'primaryKey' | 'targetKey' | 'before' | 'after' | 'where'
> & {
  readonly name: string
  /** This table's checkpoint file (one per table in a multi-table pipeline). */
  readonly checkpointFile: string
  readonly before?: StepFunction
  readonly after?: StepFunction
  readonly source: Endpoint<Source>
  readonly target: Endpoint<Sink>
  readonly targetTable: string
  readonly primaryKey?: readonly string[]
  readonly targetKey?: readonly string[]
  readonly where?: Filter
  readonly transform?: RowTransform
  /** Whole-database copies: the table to create (the source's schema translated), instead of one inferred from the rows. */
  readonly targetSchema?: TableSchema
  /** Whole-database copies into SQLite: the target's own foreign-key checks are off during the load (see `SinkOptions`). */
  readonly foreignKeyChecks?: boolean
  /**
   * Rows per raw passthrough write: `batchSize` when the pipeline sets it, else only `batchBytes`
   * ends a batch (text that is never decoded costs no memory per row, while every transaction
   * costs a commit: 1000-row commits made a PG→PG passthrough 1.4× slower).
   */
  readonly rawBatchSize?: number
}

/**
 * Validates one table's settings before any connection opens; throws a `ConfigError` naming each
 * bad setting. `where` says which part of the pipeline file they come from.
 */
export function resolveSettings(
  name: string,
  input: unknown,
  options: { where?: string; multiTable?: boolean } = {},
): ResolvedSettings {
  const parsed = schema.safeParse(input, { reportInput: true })
  if (!parsed.success) {
    throw new ConfigError(
      `pipeline \`${name}\`${options.where ? ` ${options.where}` : ''} has bad settings:\n` +
        parsed.error.issues.map(describeIssue).join('\n'),
    )
  }
  const s = parsed.data
  if (s.resume && !s.checkpoints) {
    throw new ConfigError(
      `pipeline \`${name}\`${options.where ? ` ${options.where}` : ''}: \`resume\` needs \`checkpoints\` (a run without them can neither continue a checkpoint nor keep it true)`,
    )
  }
  if (s.strategy === 'distributed' && (!s.queue || s.onRejectedRow === 'skip')) {
    throw new ConfigError(
      `pipeline \`${name}\`${options.where ? ` ${options.where}` : ''}: ${s.queue ? "the distributed strategy stops at a refused row (`onRejectedRow: 'fail'`); setting rows aside across workers is not supported yet" : "the distributed strategy needs a queue: set `queue: 'redis://host:6379/0'` or pass --queue"}`,
    )
  }
  if (s.maxRejectedRows !== undefined && s.onRejectedRow !== 'skip') {
    throw new ConfigError(
      `pipeline \`${name}\`${options.where ? ` ${options.where}` : ''}: setting \`maxRejectedRows\` needs \`onRejectedRow: 'skip'\` (refused rows are set aside up to it); with 'fail' the first refused row stops the run`,
    )
  }
  const targetTable = s.targetTable ?? s.sourceTable
  try {
    checkEndpoint(s.source as Endpoint<Source>, 'source', s.sourceTable, s.where)
    checkEndpoint(s.target as Endpoint<Sink>, 'target', targetTable, s.targetWhere)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    throw new ConfigError(`pipeline \`${name}\`${options.where ? ` ${options.where}` : ''}: ${err.message}`, { cause: err })
  }
  const settings = {
    ...s,
    name,
    checkpointFile: join(s.checkpointDir, options.multiTable ? `${name}.${targetTable}.json` : `${name}.json`),
    before: s.before as StepFunction | undefined,
    after: s.after as StepFunction | undefined,
    source: s.source as Endpoint<Source>,
    target: s.target as Endpoint<Sink>,
    targetTable,
    transform: s.transform as RowTransform | undefined,
    rawBatchSize: (input as { batchSize?: unknown }).batchSize === undefined ? maxBatchSize : s.batchSize,
  }
  return Object.freeze(settings)
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const setting = issue.path.join('.')
  if (issue.code === 'unrecognized_keys') {
    const allowed = Object.keys(schema.shape).join(', ')
    return `  unknown setting ${issue.keys.map((k) => `\`${k}\``).join(', ')}; allowed settings: ${allowed}`
  }
  if (issue.code === 'invalid_union' && (setting === 'source' || setting === 'target')) {
    const renamed = 'input' in issue && typeof issue.input === 'object' && issue.input !== null && 'dialect' in issue.input
    return `  setting \`${setting}\`: expected a URL whose scheme is one of ${knownEngines.join(', ')}, connection options with an \`engine\`, or a factory function${renamed ? ' (connection options name their database with `engine`, no longer `dialect`)' : ''}`
  }
  if (setting === 'sourceTable' && 'input' in issue && issue.input === undefined) {
    return "  `sourceTable` or `tables` is needed: name the table to read (`sourceTable: 'users'`) or list the tables (`tables: ['users', 'orders']`)"
  }
  // Redacted: a bad `source` URL or a misplaced password must not be printed back.
  const input = 'input' in issue ? redact(issue.input, String(issue.path.at(-1) ?? '')) : undefined
  const got = 'input' in issue && typeof issue.input !== 'function' ? ` (got ${JSON.stringify(input)})` : ''
  return `  setting \`${setting}\`: ${issue.message}${got}`
}
