import { copyUsage } from './copy-usage.js'
import { runCli } from './exit.js'

const usage = `usage: ferry copy <source-url> <target-url> [options]   copy a whole database
       ferry worker --queue redis://host:6379/0 [options]  work the ranges of distributed runs
       ferry <pipeline> [options]                          run a pipeline of pipelines/ (as npm run pipeline)
       ferry                                               list the pipelines

${copyUsage}`

/**
 * The `ferry` command (package.json `bin`): `ferry copy …`, or a pipeline by name. The commands
 * load when they run, so that `--help` loads nothing else.
 */
async function ferry(argv: string[]): Promise<number> {
  if (argv[0] === 'copy') return (await import('./copy.js')).copyCommand(argv.slice(1))
  if (argv[0] === 'worker') return (await import('./worker.js')).workerCommand(argv.slice(1))
  if (argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    console.log(usage)
    return 0
  }
  return (await import('./pipeline-command.js')).pipelineCommand(argv)
}

runCli(ferry)
