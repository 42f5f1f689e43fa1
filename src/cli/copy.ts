import { createHash } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import type { PipelineSettings } from '../config.js'
import { ConfigError } from '../errors.js'
import { redactUrl } from '../redact.js'
import { resolvePipeline } from '../resolve.js'
import { Scrubber } from '../scrub.js'
import { integer, parseFlags } from './args.js'
import { copyUsage } from './copy-usage.js'
import { runCli } from './exit.js'
import { runResolved } from './run-resolved.js'


const options = {
  include: { type: 'string' },
  exclude: { type: 'string' },
  'identifier-case': { type: 'string' },
  'zero-dates': { type: 'string' },
  tinyint1: { type: 'string' },
  spatial: { type: 'string' },
  'write-mode': { type: 'string' },
  strategy: { type: 'string' },
  workers: { type: 'string' },
  'batch-size': { type: 'string' },
  'chunk-size': { type: 'string' },
  validate: { type: 'string' },
  resume: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  name: { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

/** `ferry copy <source-url> <target-url>`: a whole-database pipeline built from the command line. */
export async function copyCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseFlags(argv, options, copyUsage)
  if (v.help) {
    console.log(copyUsage)
    return 0
  }
  if (positionals.length !== 2) throw new ConfigError(`copy takes a source URL and a target URL, got ${positionals.length} argument(s)\n${copyUsage}`)
  const [source, target] = positionals as [string, string]
  const list = (s: string | undefined) => s?.split(',').map((x) => x.trim()).filter(Boolean)
  const settings: Record<string, unknown> = {
    source,
    target,
    tables: 'all',
    include: list(v.include),
    exclude: list(v.exclude),
    identifierCase: v['identifier-case'],
    zeroDates: v['zero-dates'],
    tinyint1: v.tinyint1,
    spatial: v.spatial,
    writeMode: v['write-mode'],
    strategy: v.strategy,
    numWorkers: integer('--workers', v.workers),
    batchSize: integer('--batch-size', v['batch-size']),
    chunkSize: integer('--chunk-size', v['chunk-size']),
    validate: v.validate === 'none' ? false : v.validate,
    resume: v.resume,
    logLevel: v['log-level'],
  }
  const defined = Object.fromEntries(Object.entries(settings).filter(([, x]) => x !== undefined)) as unknown as PipelineSettings
  // One name per pair of databases: a resumed copy finds its checkpoints without being told.
  const name = v.name ?? `copy-${createHash('sha256').update(`${redactUrl(source)}\0${redactUrl(target)}`).digest('hex').slice(0, 8)}`
  const scrubber = Scrubber.for([defined])
  try {
    const resolved = resolvePipeline(name, defined)
    const again = argv.filter((a) => a !== '--resume')
    const resumeCommand = `npx ferry copy ${again.map((a) => (/^[\w:/.@=,*-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ')} --resume`
    return await runResolved(resolved, { dryRun: v['dry-run'] === true, check: false, validateOnly: false, resumeCommand }, scrubber)
  } catch (err) {
    throw scrubber.error(err)
  }
}

// `npm run copy -- …` runs this file itself.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) runCli(copyCommand)
