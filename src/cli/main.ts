import { runCli } from './exit.js'
import { pipelineCommand } from './pipeline-command.js'

// `npm run pipeline`. Exit codes: 0 success (rows refused within `maxRejectedRows` included), 1 the
// run or its validation failed or it refused rows the pipeline does not allow, 2 bad input,
// 130/143 stopped by SIGINT/SIGTERM.
runCli(pipelineCommand)
