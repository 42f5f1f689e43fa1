import { inspect } from 'node:util'
import { ConfigError, ConnectionError, CheckpointError, FerryError, MissingTableError } from '../errors.js'
import { LockedError } from '../lock.js'
import { redactText } from '../redact.js'

export function isBadInput(err: unknown): boolean {
  return (
    err instanceof ConfigError ||
    err instanceof ConnectionError ||
    err instanceof MissingTableError ||
    err instanceof CheckpointError ||
    err instanceof LockedError
  )
}

/** Runs a command and sets the exit code: its own, or 2 for bad input and 1 for anything else thrown. */
export function runCli(command: (argv: string[]) => Promise<number>, argv = process.argv.slice(2)): void {
  command(argv).then(
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
}
