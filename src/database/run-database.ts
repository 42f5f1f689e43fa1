import type { SchemaWriter, SkippedObject } from '../catalog.js'
import { settingsHash } from '../checkpoint.js'
import { discardCheckpoint, loadCheckpoint } from '../checkpoint-file.js'
import type { ResolvedSettings } from '../config.js'
import { createDatabaseIfMissing } from '../engines/create-database.js'
import { describeEndpoint, openSink, openSource } from '../engines/registry.js'
import { CheckpointError, ConfigError } from '../errors.js'
import { faultPoint } from '../faults.js'
import { lockFileOf, takeLock } from '../lock.js'
import type { Logger } from '../log.js'
import type { TableResult } from '../outcome.js'
import type { ResolvedPipeline } from '../resolve.js'
import type { SqlEngine } from '../schema/sql-expression.js'
import type { Sink } from '../sink.js'
import type { Source } from '../source.js'
import { buildSchema } from './build.js'
import { tableSettings } from './expand.js'
import { type DatabasePlan, planDatabase } from './plan.js'
import { mergeSchemas, readSchemaFile, removeSchemaFile, type SavedSchema, SchemaNotBuiltError, schemaFile, writeSchemaFile } from './schema-file.js'
import { type DatabaseState, readState, removeState, stateFile, writeState } from './state.js'
import { schemaProblems } from './verify.js'

/** What a whole-database copy did to the schema, for the report. */
export interface DatabaseSummary {
  readonly order: readonly string[]
  readonly planned: { readonly tables: number; readonly indexes: number; readonly foreignKeys: number; readonly checks: number; readonly identities: number }
  readonly skipped: readonly SkippedObject[]
  readonly warnings: readonly string[]
}

/** Reads the source's catalog and plans the copy; opens nothing on the target but what it names. */
export async function planCopy(pipeline: ResolvedPipeline, source: Source, targetEngine: string): Promise<{ plan: DatabasePlan; tables: ResolvedSettings[] }> {
  const db = pipeline.database!
  if (!source.catalog) throw new ConfigError(`the ${source.engine} source cannot list its tables (\`tables: 'all'\` needs SQLite, PostgreSQL or MySQL): name the tables`)
  if (!['sqlite', 'postgres', 'mysql'].includes(targetEngine)) throw new ConfigError(`the ${targetEngine} target cannot take a whole database yet (\`tables: 'all'\` needs SQLite, PostgreSQL or MySQL): name the tables`)
  const catalog = await source.catalog()
  const unknown = Object.keys(db.tableSettings).filter((t) => !catalog.tables.some((c) => c.table === t))
  if (unknown.length) throw new ConfigError(`setting \`tableSettings\` names ${unknown.map((t) => `\`${t}\``).join(', ')}, which the source does not have`)
  const plan = await planDatabase(catalog, targetEngine as SqlEngine, db.options, (table, condition) => source.count(table, condition))
  const keyless = plan.tables.filter((t) => !t.source.primaryKey.length && !t.source.uniqueKeys.length && !db.tableSettings[t.source.table]?.primaryKey)
  if (keyless.length) {
    throw new ConfigError(
      `${keyless.map((t) => `\`${t.source.table}\``).join(', ')} ha${keyless.length > 1 ? 've' : 's'} no primary or unique key, which ferry reads and resumes by: give ${keyless.length > 1 ? 'each' : 'it'} one in \`tableSettings\` (\`{ primaryKey: [...], assertUniqueKey: true }\`), or leave ${keyless.length > 1 ? 'them' : 'it'} out with \`exclude\``,
    )
  }
  return { plan, tables: plan.tables.map((t) => tableSettings(pipeline.name, db, t, targetEngine === 'sqlite')) }
}

/**
 * A whole-database copy around the table loads of `runPipeline`: before them, the target database
 * created if missing, the plan, the objects to build after the data saved, the target's foreign
 * keys among the copied tables dropped; per table, where the copy stands; after them, indexes,
 * foreign keys and identity sequences built, and the target's schema checked against the plan.
 */
export class DatabaseRun {
  readonly #files: { state: string; schema: string }
  #state!: DatabaseState
  #plan!: DatabasePlan
  #tables: ResolvedSettings[] = []
  #unlock = async () => {}

  private constructor(
    readonly template: ResolvedSettings,
    readonly pipeline: ResolvedPipeline,
    readonly logger: Logger,
  ) {
    this.#files = { state: stateFile(template.checkpointDir, pipeline.name), schema: schemaFile(template.checkpointDir, pipeline.name) }
  }

  get tables(): readonly ResolvedSettings[] {
    return this.#tables
  }

  static async open(pipeline: ResolvedPipeline, logger: Logger, validateOnly: boolean): Promise<DatabaseRun> {
    const run = new DatabaseRun(pipeline.database!.template, pipeline, logger)
    await run.#open(validateOnly)
    return run
  }

  async #open(validateOnly: boolean): Promise<void> {
    const s = this.template
    if (!validateOnly) {
      this.#unlock = await takeLock(lockFileOf(this.#files.state), { pipeline: this.pipeline.name, table: '(database)' })
      const created = await createDatabaseIfMissing(s.target)
      if (created) this.logger.info(`created the target database \`${created}\``)
    }
    await this.#with(async (source, sink) => {
      const { plan, tables } = await planCopy(this.pipeline, source, sink.engine)
      this.#plan = plan
      this.logger.info(`whole database: ${tables.length} table(s) in foreign-key order: ${tables.map((t) => t.sourceTable).join(', ')}`)
      for (const w of plan.warnings) this.logger.warn(w)
      for (const k of plan.skipped) this.logger.warn(`not copied: ${k.kind} \`${k.name}\`: ${k.reason}`)
      if (validateOnly) {
        this.#tables = tables
        return
      }
      const state = s.resume ? await readState(this.#files.state) : undefined
      const hash = settingsHash({ source: describeEndpoint(s.source), target: describeEndpoint(s.target), tables: tables.map((t) => [t.sourceTable, t.targetTable]) })
      if (state && state.settingsHash !== hash) throw new CheckpointError(`checkpoint \`${this.#files.state}\` was written by another copy (databases or tables changed); run without --resume to start over`)
      if (s.resume && !state) this.logger.warn(`no checkpoint at ${this.#files.state}; starting from the beginning`)
      this.#state = state ?? (await this.#fresh(sink.schema!, hash, tables))
      this.#tables = await Promise.all(tables.map((t) => this.#resumable(t)))
    })
  }

  /** A fresh copy: the objects to build saved before anything is dropped, then the target's foreign keys among the copied tables dropped. */
  async #fresh(writer: SchemaWriter, hash: string, tables: readonly ResolvedSettings[]): Promise<DatabaseState> {
    const target = await writer.catalog()
    const copied = new Set(this.#plan.tables.map((t) => t.target.table))
    const existing = target.tables.filter((t) => copied.has(t.table)).flatMap((t) => (t.foreignKeys ?? []).filter((f) => copied.has(f.table)).map((fk) => ({ table: t.table, fk })))
    const recreate = this.template.writeMode === 'recreate'
    const planned: SavedSchema = {
      version: 1,
      target: describeEndpoint(this.template.target),
      indexes: this.#plan.tables.flatMap((t) => (t.target.indexes ?? []).map((index) => ({ table: t.target.table, index }))),
      foreignKeys: [
        ...(recreate ? [] : existing.map((e) => ({ ...e, origin: 'target' as const }))),
        ...this.#plan.tables.flatMap((t) => (t.target.foreignKeys ?? []).map((fk) => ({ table: t.target.table, fk, origin: 'source' as const }))),
      ],
      identities: this.#plan.tables.flatMap((t) => t.target.columns.filter((c) => c.identity).map((c) => ({ table: t.target.table, column: c.name }))),
    }
    await writeSchemaFile(this.#files.schema, mergeSchemas(await readSchemaFile(this.#files.schema, planned.target), planned))
    if (!writer.inlineForeignKeys) {
      for (const { table, fk } of existing) await writer.dropForeignKey(table, fk.name)
      if (existing.length) this.logger.info(`dropped ${existing.length} foreign key(s) of the target for the load (${existing.map((e) => `\`${e.fk.name}\``).join(', ')}); kept in ${this.#files.schema} and added back after it`)
    }
    const state: DatabaseState = { version: 1, settingsHash: hash, tables: {} }
    for (const t of tables) await discardCheckpoint(t.checkpointFile)
    await writeState(this.#files.state, state)
    return state
  }

  /**
   * A table of a resumed copy: one done is skipped; one started resumes from its checkpoint, or
   * when it has none (it ended, or was killed before its first) loads again, replaying with
   * upserts; one not started loads afresh.
   */
  async #resumable(t: ResolvedSettings): Promise<ResolvedSettings> {
    const at = this.#state.tables[t.sourceTable]
    if (!at) return Object.freeze({ ...t, resume: false })
    if (at.state === 'done') return t
    const checkpoint = await loadCheckpoint(t.checkpointFile)
    return Object.freeze({ ...t, resume: true, ...(!checkpoint && t.writeMode === 'insert' && { writeMode: 'upsert' as const }) })
  }

  isDone(t: ResolvedSettings): boolean {
    return this.#state?.tables[t.sourceTable]?.state === 'done'
  }

  /** A table an earlier run of this copy loaded, as this run reports it. */
  doneResult(t: ResolvedSettings): TableResult {
    const c = this.#state.tables[t.sourceTable]!.counts!
    this.logger.info(`\`${t.targetTable}\`: loaded by an earlier run of this copy (${c.migrated} rows)`)
    const stats = { ...c, startTime: new Date().toISOString(), averageRate: 0, errors: [], workers: [] }
    return { sourceTable: t.sourceTable, targetTable: t.targetTable, status: 'SUCCESS', stats }
  }

  async starting(t: ResolvedSettings): Promise<void> {
    if (this.#state.tables[t.sourceTable]) return
    const exists = await this.#with((_, sink) => sink.describe(t.targetTable))
    const created = exists === undefined || t.writeMode === 'recreate'
    await this.#save(t.sourceTable, { state: 'started', created })
  }

  async finished(t: ResolvedSettings, result: TableResult): Promise<void> {
    if (result.status !== 'SUCCESS' && result.status !== 'SUCCESS_WITH_REJECTS') return
    const { migrated, failed, skipped, filtered, total, elapsedSeconds } = result.stats
    await this.#save(t.sourceTable, { ...this.#state.tables[t.sourceTable]!, state: 'done', counts: { migrated, failed, skipped, filtered, total, elapsedSeconds } })
    faultPoint('database-table-done')
  }

  async #save(table: string, at: DatabaseState['tables'][string]): Promise<void> {
    this.#state = { ...this.#state, tables: { ...this.#state.tables, [table]: at } }
    await writeState(this.#files.state, this.#state)
  }

  /** After the last table: builds what the schema file lists, then checks the target against the plan. */
  async finish(): Promise<void> {
    const saved = await readSchemaFile(this.#files.schema, describeEndpoint(this.template.target))
    const sinks: Sink[] = []
    try {
      const first = await openSink(this.template.target)
      sinks.push(first)
      const writer = first.schema!
      const parallel = Math.max(1, Math.min(writer.parallelIndexes, this.template.numWorkers))
      for (let i = 1; i < parallel; i++) sinks.push(await openSink(this.template.target))
      const failures = saved ? await buildSchema(saved, sinks.map((k) => k.schema!), this.logger) : new Map<string, string>()
      const created = (table: string) => this.#created(table)
      const problems = failures.size ? [] : schemaProblems(this.#plan.tables, await writer.catalog(), created)
      if (failures.size || problems.length) {
        const lines = [...[...failures].map(([what, why]) => `${what}: ${why}`), ...problems]
        throw new SchemaNotBuiltError(`the target's schema is not the source's: ${lines.join('; ')}; what is still to build stays in ${this.#files.schema}, and the next run (--resume) builds it`)
      }
      this.logger.info(`schema: ${this.summary().planned.indexes} index(es), ${this.summary().planned.foreignKeys} foreign key(s), ${this.summary().planned.checks} check(s) and ${this.summary().planned.identities} identity column(s) on the target, as planned`)
      await removeSchemaFile(this.#files.schema)
      await removeState(this.#files.state)
    } finally {
      await Promise.allSettled(sinks.map((k) => k.close()))
    }
  }

  #created(targetTable: string): boolean {
    const planned = this.#plan.tables.find((t) => t.target.table === targetTable)
    return planned !== undefined && this.#state.tables[planned.source.table]?.created === true
  }

  summary(): DatabaseSummary {
    const t = this.#plan?.tables ?? []
    const count = (f: (x: (typeof t)[number]) => number) => t.reduce((n, x) => n + f(x), 0)
    return {
      order: t.map((x) => x.target.table),
      planned: {
        tables: t.length,
        indexes: count((x) => x.target.indexes?.length ?? 0),
        foreignKeys: count((x) => x.target.foreignKeys?.length ?? 0),
        checks: count((x) => x.target.checks?.length ?? 0),
        identities: count((x) => x.target.columns.filter((c) => c.identity).length),
      },
      skipped: this.#plan?.skipped ?? [],
      warnings: this.#plan?.warnings ?? [],
    }
  }

  async close(): Promise<void> {
    await this.#unlock()
  }

  async #with<T>(use: (source: Source, sink: Sink) => Promise<T>): Promise<T> {
    const source = await openSource(this.template.source)
    try {
      const sink = await openSink(this.template.target, { foreignKeyChecks: false })
      try {
        return await use(source, sink)
      } finally {
        await sink.close()
      }
    } finally {
      await source.close()
    }
  }
}

