import { resolvePipeline } from '../run.js'
import { Scrubber } from '../scrub.js'
import { parseCli, usage } from './args.js'
import { listPipelines, loadPipeline, pipelinesDir } from './pipelines.js'
import { runResolved } from './run-resolved.js'

/** `npm run pipeline [<name> [-- options]]`: lists the pipelines, or runs one. */
export async function pipelineCommand(argv: string[]): Promise<number> {
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
    const resumeCommand = `npm run pipeline ${args.pipeline} -- ${[...argv.filter((a) => a !== args.pipeline && a !== '--resume'), '--resume'].join(' ')}`
    // What the workers of a distributed run load: the pipeline as named here, and the command
    // line's settings but the queue's URL, which may hold a password.
    const { queue: _queue, ...overrides } = args.overrides
    const origin = { pipeline: args.pipeline, overrides }
    return await runResolved(resolved, { ...args, resumeCommand, origin }, scrubber)
  } catch (err) {
    throw scrubber.error(err)
  }
}
