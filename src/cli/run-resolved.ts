import { dryRunDatabase } from '../database/dry-run-database.js'
import { check, dryRun } from '../dry-run.js'
import { InterruptedError, stopOnSignals } from '../interrupt.js'
import { createLogger, stamp } from '../log.js'
import type { PipelineOrigin } from '../distributed/job.js'
import type { ResolvedPipeline } from '../resolve.js'
import { runPipeline } from '../run.js'
import type { Scrubber } from '../scrub.js'
import { isBadInput } from './exit.js'

/**
 * What `npm run pipeline` and `ferry copy` share once the settings are checked: a dry run or a
 * check, or the run itself, stopped cleanly by SIGINT/SIGTERM; the exit code (0 success, 1 failed,
 * 2 bad input, 130/143 stopped).
 */
export async function runResolved(
  resolved: ResolvedPipeline,
  flags: { dryRun: boolean; check: boolean; validateOnly: boolean; resumeCommand: string; status?: boolean; origin?: PipelineOrigin },
  scrubber: Scrubber,
): Promise<number> {
  if (flags.dryRun || flags.check || flags.status) {
    const first = resolved.tables[0] ?? resolved.database!.template
    const { logger } = createLogger({ pipeline: resolved.name, logDir: first.logDir, level: first.logLevel, console: true, stamp: stamp(), scrub: scrubber.scrub })
    if (flags.status) await (await import('../distributed/status.js')).showStatus(resolved, logger)
    else if (flags.dryRun) await (resolved.database ? dryRunDatabase(resolved, logger) : dryRun(resolved, logger))
    else await check(resolved, logger)
    return 0
  }
  const stop = new AbortController()
  const stopped = stopOnSignals(stop, (message) => process.stderr.write(`ferry: ${message}\n`))
  const result = await runPipeline(resolved, { console: true, validateOnly: flags.validateOnly, stop: stop.signal, resumeCommand: flags.resumeCommand, ...(flags.origin && { origin: flags.origin }) }).finally(stopped)
  if (result.error instanceof InterruptedError) return result.error.exitCode
  if (result.error) return isBadInput(result.error) ? 2 : 1
  return result.status === 'SUCCESS' || result.status === 'SUCCESS_WITH_REJECTS' ? 0 : 1
}
