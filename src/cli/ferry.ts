import { copyCommand, copyUsage } from './copy.js'
import { runCli } from './exit.js'
import { pipelineCommand } from './pipeline-command.js'
import { workerCommand } from './worker.js'

const usage = `usage: ferry copy <source-url> <target-url> [options]   copy a whole database
       ferry worker --queue redis://host:6379/0 [options]  work the ranges of distributed runs
       ferry <pipeline> [options]                          run a pipeline of pipelines/ (as npm run pipeline)
       ferry                                               list the pipelines

${copyUsage}`

/** The `ferry` command (package.json `bin`): `ferry copy …`, or a pipeline by name. */
async function ferry(argv: string[]): Promise<number> {
  if (argv[0] === 'copy') return copyCommand(argv.slice(1))
  if (argv[0] === 'worker') return workerCommand(argv.slice(1))
  if (argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    console.log(usage)
    return 0
  }
  return pipelineCommand(argv)
}

runCli(ferry)
