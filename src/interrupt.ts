import { FerryError } from './errors.js'

/** The operator stopped the run (Ctrl-C, SIGTERM): it ended at a batch boundary, its checkpoint saved. */
export class InterruptedError extends FerryError {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`)
  }

  /** 128 + the signal's number, as shells report a process a signal ended. */
  get exitCode(): number {
    return this.signal === 'SIGINT' ? 130 : 143
  }
}

/**
 * Turns SIGINT and SIGTERM into a request to stop at the next batch boundary (`stop` aborts with an
 * `InterruptedError`); a second one ends the process at once, which the atomic checkpoint survives.
 * Under `npm run`, npm does not pass SIGTERM on: a process whose parent is gone stops the same way.
 * Returns the function that removes the handlers.
 */
export function stopOnSignals(stop: AbortController, said: (message: string) => void): () => void {
  const request = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) {
      said(`${signal} again: stopping now; the checkpoint holds what was committed, continue with --resume`)
      process.exit(new InterruptedError(signal).exitCode)
    }
    said(`${signal}: stopping after the batches being written; ${signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'} again stops at once`)
    stop.abort(new InterruptedError(signal))
  }
  const onInt = () => request('SIGINT')
  const onTerm = () => request('SIGTERM')
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)
  const parent = process.ppid
  const orphaned = process.env.npm_lifecycle_event
    ? setInterval(() => process.ppid !== parent && !stop.signal.aborted && request('SIGTERM'), 500).unref()
    : undefined
  return () => {
    process.off('SIGINT', onInt)
    process.off('SIGTERM', onTerm)
    clearInterval(orphaned)
  }
}
