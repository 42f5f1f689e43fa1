import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { PipelineSettings } from '../config.js'
import { ConfigError } from '../errors.js'

export const usage = `usage: npm run pipeline [<name> [-- options]]

  without a name, lists the pipelines in pipelines/

options (each overrides the pipeline file's setting):
  --strategy streaming|chunked|parallel|distributed
  --queue URL            the distributed strategy's Redis (redis://host:6379/0)
  --queue-name NAME      its queue's name (default ferry)
  --status               show a distributed run's ranges: pending, active (and by whom), done, failed
  --chunk-size N         rows per chunk
  --batch-size N         rows per write
  --batch-bytes N        bytes per write, about (a write ends at whichever limit comes first)
  --no-passthrough       decode rows even where a same-engine copy could pass its raw text through
  --workers N            workers of the parallel strategy
  --where SQL            source filter
  --write-mode upsert|insert|truncate|recreate
  --skip-existing        skip rows whose key is in the target
  --validate count|checksum|none
  --resume               continue from the last checkpoint
  --validate-only        compare source and target without moving a row
  --only a,b             run only these tables of a multi-table pipeline
  --dry-run              connect, check both sides and print the plan; write nothing
  --check                check connections and tables; estimate the time
  --log-level silent|error|warn|info|debug
  -h, --help`

const options = {
  strategy: { type: 'string' },
  queue: { type: 'string' },
  'queue-name': { type: 'string' },
  status: { type: 'boolean' },
  'chunk-size': { type: 'string' },
  'batch-size': { type: 'string' },
  'batch-bytes': { type: 'string' },
  'no-passthrough': { type: 'boolean' },
  workers: { type: 'string' },
  where: { type: 'string' },
  'write-mode': { type: 'string' },
  'skip-existing': { type: 'boolean' },
  validate: { type: 'string' },
  resume: { type: 'boolean' },
  'validate-only': { type: 'boolean' },
  only: { type: 'string' },
  'dry-run': { type: 'boolean' },
  check: { type: 'boolean' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

export interface CliArgs {
  readonly pipeline?: string
  readonly help: boolean
  readonly validateOnly: boolean
  readonly dryRun: boolean
  readonly check: boolean
  readonly status: boolean
  readonly only?: string[]
  readonly overrides: Partial<PipelineSettings>
}

/** Parses a command's flags and arguments; a bad flag is bad input, shown with the command's usage. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n${usage}`)
  }
}

export function parseCli(argv: string[]): CliArgs {
  const { values, positionals } = parseFlags(argv, options, usage)
  if (positionals.length > 1) throw new ConfigError(`one pipeline at a time, got ${positionals.join(' ')}`)
  const overrides: Record<string, unknown> = {}
  const set = (key: keyof PipelineSettings, value: unknown) => {
    if (value !== undefined) overrides[key] = value
  }
  set('strategy', values.strategy)
  set('queue', values.queue)
  set('queueName', values['queue-name'])
  set('chunkSize', integer('--chunk-size', values['chunk-size']))
  set('batchSize', integer('--batch-size', values['batch-size']))
  set('batchBytes', integer('--batch-bytes', values['batch-bytes']))
  if (values['no-passthrough']) set('passthrough', false)
  set('numWorkers', integer('--workers', values.workers))
  set('where', values.where)
  set('writeMode', values['write-mode'])
  set('skipExisting', values['skip-existing'])
  set('validate', values.validate === 'none' ? false : values.validate)
  set('resume', values.resume)
  set('logLevel', values['log-level'])
  return {
    pipeline: positionals[0],
    help: values.help === true,
    validateOnly: values['validate-only'] === true,
    dryRun: values['dry-run'] === true,
    check: values.check === true,
    status: values.status === true,
    ...(values.only !== undefined && { only: values.only.split(',').map((t) => t.trim()).filter(Boolean) }),
    overrides,
  }
}

/** A flag's whole number; undefined when the flag is not given. */
export function integer(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value)) throw new ConfigError(`${flag} takes a whole number, got \`${value}\``)
  return Number(value)
}
