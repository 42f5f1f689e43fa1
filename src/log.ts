import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { pino, type Logger } from 'pino'
import pretty from 'pino-pretty'
import { redactText } from './redact.js'
import type { Scrub } from './scrub.js'

export type { Logger }

/** A file-name-safe timestamp: 2026-11-25T07-53-07-824Z. */
export function stamp(at = new Date()): string {
  return at.toISOString().replace(/[:.]/g, '-')
}

export interface LogOptions {
  readonly pipeline: string
  readonly logDir: string
  readonly level: string
  /** Readable lines on stdout besides the JSON file; off in tests and for library use. */
  readonly console: boolean
  readonly stamp: string
  /** Applied to every line before it is written (the run's `Scrubber`); default: URL credentials and private keys removed. */
  readonly scrub?: Scrub
}

/** A pino logger writing JSON lines to `logs/<pipeline>-<stamp>.log` and readable lines to stdout. */
export function createLogger(options: LogOptions): { logger: Logger; file: string } {
  mkdirSync(options.logDir, { recursive: true })
  const file = join(options.logDir, `${options.pipeline}-${options.stamp}.log`)
  const level = options.level === 'silent' ? 'silent' : options.level
  // Synchronous destinations: a run killed with SIGKILL still leaves every line written so far.
  const clean = scrubbing(options.scrub ?? redactText)
  const streams: pino.StreamEntry[] = [{ level: 'debug', stream: clean(pino.destination({ dest: file, sync: true })) }]
  if (options.console) {
    streams.push({
      level: 'debug',
      stream: clean(pretty({
        sync: true,
        colorize: process.stdout.isTTY === true,
        ignore: 'pid,hostname,pipeline',
        translateTime: 'SYS:HH:MM:ss',
        singleLine: true,
      })),
    })
  }
  const logger = pino({ level, base: { pipeline: options.pipeline } }, pino.multistream(streams))
  return { logger, file }
}

/**
 * Scrubs each JSON line before a destination gets it, so that neither the file nor the console
 * (pino-pretty formats the scrubbed line) ever holds a secret, whoever logged it (ferry, a driver
 * message, a user's step).
 */
function scrubbing(scrub: Scrub) {
  type Destination = pino.DestinationStream & { flushSync?: () => void; end?: () => void }
  return (stream: Destination): Destination => ({
    write: (line: string) => stream.write(scrub(line)),
    flushSync: () => stream.flushSync?.(),
    end: () => stream.end?.(),
  })
}
