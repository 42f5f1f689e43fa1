import { hostname } from 'node:os'
import { pathToFileURL } from 'node:url'
import { ConfigError } from '../errors.js'
import { stopOnSignals } from '../interrupt.js'
import { createLogger, stamp } from '../log.js'
import { Scrubber } from '../scrub.js'
import { runCli } from './exit.js'
import { integer, parseFlags } from './args.js'
import { loadPipeline } from './pipelines.js'

export const workerUsage = `usage: npm run worker -- --queue redis://host:6379/0 [options]
       npx ferry worker --queue redis://host:6379/0 [options]

Works the ranges of distributed runs (strategy: 'distributed'): takes them from the queue, loads
each range's pipeline from pipelines/ (or the path the planner was given) as this checkout has it,
with this machine's environment, and writes the range to the target on connections of its own.

options:
  --queue URL            the queue's Redis (required); it must run with maxmemory-policy noeviction
  --queue-name NAME      the queue's name (default ferry), as the pipeline's \`queueName\`
  --concurrency N        ranges worked at once by this process (default 1)
  --lock-duration MS     a worker silent this long loses its ranges to the others (default 30000)
  --name NAME            this worker's name in jobs, logs and reports (default host:pid)
  --log-dir DIR          where its JSON log goes (default logs)
  --log-level silent|error|warn|info|debug
  -h, --help`

const options = {
  queue: { type: 'string' },
  'queue-name': { type: 'string' },
  concurrency: { type: 'string' },
  'lock-duration': { type: 'string' },
  name: { type: 'string' },
  'log-dir': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

/** `ferry worker`: runs until SIGINT or SIGTERM, which put the ranges being worked back on the queue. */
export async function workerCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags(argv, options, workerUsage)
  if (positionals.length) throw new ConfigError(`unexpected argument \`${positionals[0]}\`\n${workerUsage}`)
  if (v.help) {
    console.log(workerUsage)
    return 0
  }
  if (!v.queue || !/^rediss?:\/\//.test(v.queue)) throw new ConfigError(`--queue takes the queue's Redis URL (redis://host:6379/0)\n${workerUsage}`)
  const name = v.name ?? `${hostname()}:${process.pid}`
  const level = (v['log-level'] ?? 'info') as 'info'
  const { logger } = createLogger({ pipeline: 'worker', logDir: v['log-dir'] ?? 'logs', level, console: true, stamp: stamp(), scrub: Scrubber.for([{ queue: v.queue }]).scrub })
  const stop = new AbortController()
  const stopped = stopOnSignals(stop, (message) => process.stderr.write(`ferry worker: ${message}\n`))
  const { runWorker } = await import('../distributed/worker.js')
  await runWorker({
    queue: v.queue,
    queueName: v['queue-name'] ?? 'ferry',
    concurrency: integer('--concurrency', v.concurrency) ?? 1,
    lockDuration: integer('--lock-duration', v['lock-duration']) ?? 30_000,
    name,
    load: loadPipeline,
    logger,
    stop: stop.signal,
  }).finally(stopped)
  logger.info(`worker ${name} stopped`)
  logger.flush()
  return 0
}

// `npm run worker -- …` runs this file itself.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runCli(workerCommand)
