import { inspect } from 'node:util'
import { ConfigError, ConnectionError, CheckpointError, FerryError, MissingTableError } from '../errors.js'
import { redactText } from '../redact.js'
import { Scrubber } from '../scrub.js'
import { resolvePipeline, runPipeline } from '../run.js'
import { parseCli, usage } from './args.js'
import { listPipelines, loadPipeline, pipelinesDir } from './pipelines.js'
import { check, dryRun } from '../dry-run.js'
import { InterruptedError, stopOnSignals } from '../interrupt.js'
import { LockedError } from '../lock.js'
import { createLogger, stamp } from '../log.js'

/**
 * Exit codes: 0 success (rows refused within `maxRejectedRows` included), 1 the run or its validation
 * failed or it refused rows the pipeline does not allow, 2 bad input, 130/143 stopped by SIGINT/SIGTERM.
 */
async function main(argv: string[]): Promise<number> {
  const args = parseCli(argv)
  if (args.help) {
    console.log(usage)
    return 0
  }
  if (!args.pipeline) {
    const names = await listPipelines()
    console.log(names.length ? `pipelines in ${pipelinesDir()}:\n${names.map((n) => `  ${n}`).join('\n')}\n\nrun one with: npm run pipeline <name>` : `no pipelines in ${pipelinesDir()}`)
    return 0
  }
  const { name, pipeline } = await loadPipeline(args.pipeline)
  // From the file as written, so that settings that fail validation are scrubbed from what is printed too.
  const scrubber = Scrubber.for([pipeline, args.overrides])
  try {
    const resolved = resolvePipeline(name, pipeline, args.overrides, args.only)
    if (args.dryRun || args.check) {
      const first = resolved.tables[0]!
      const { logger } = createLogger({ pipeline: name, logDir: first.logDir, level: first.logLevel, console: true, stamp: stamp(), scrub: scrubber.scrub })
      await (args.dryRun ? dryRun(resolved, logger) : check(resolved, logger))
      return 0
    }
    const stop = new AbortController()
    const stopped = stopOnSignals(stop, (message) => process.stderr.write(`ferry: ${message}\n`))
    const resumeCommand = `npm run pipeline ${args.pipeline} -- ${[...argv.filter((a) => a !== args.pipeline && a !== '--resume'), '--resume'].join(' ')}`
    const result = await runPipeline(resolved, { console: true, validateOnly: args.validateOnly, stop: stop.signal, resumeCommand }).finally(stopped)
    if (result.error instanceof InterruptedError) return result.error.exitCode
    if (result.error) return isBadInput(result.error) ? 2 : 1
    return result.status === 'SUCCESS' || result.status === 'SUCCESS_WITH_REJECTS' ? 0 : 1
  } catch (err) {
    throw scrubber.error(err)
  }
}

function isBadInput(err: unknown): boolean {
  return (
    err instanceof ConfigError ||
    err instanceof ConnectionError ||
    err instanceof MissingTableError ||
    err instanceof CheckpointError ||
    err instanceof LockedError
  )
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err)
    console.error(`ferry: ${redactText(message)}`)
    if (!(err instanceof FerryError)) console.error(redactText(inspect(err)))
    process.exitCode = isBadInput(err) ? 2 : 1
  },
)
