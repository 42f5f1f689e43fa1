import type { StepContext, StepFunction } from './config.js'
import { ConfigError, FerryError, messageOf } from './errors.js'
import type { Logger } from './log.js'
import type { Sink } from './sink.js'

export class StepError extends FerryError {}

export type StepFunctionKind = 'before' | 'after'

/** Runs a `before`/`after` step with the target connection at hand; a failing step fails the run. */
export async function runStep(
  kind: StepFunctionKind,
  step: StepFunction | undefined,
  target: Sink,
  logger: Logger,
  table?: string,
): Promise<void> {
  if (!step) return
  const where = table ? `table \`${table}\`` : 'the pipeline'
  const ctx: StepContext = {
    target,
    table,
    log: (message) => logger.info(`${kind} (${where}): ${message}`),
    sql: async (statement) => {
      if (!target.execute) throw new ConfigError(`the ${target.engine} target cannot run SQL steps`)
      await target.execute(statement)
    },
  }
  const started = Date.now()
  try {
    await step(ctx)
  } catch (err) {
    throw new StepError(`${kind} step of ${where} failed: ${messageOf(err)}`, { cause: err })
  }
  logger.info(`${kind} step of ${where} done in ${((Date.now() - started) / 1000).toFixed(2)} s`)
}
