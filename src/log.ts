import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { pino, type Logger } from 'pino'
import pretty from 'pino-pretty'

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
}

/** A pino logger writing JSON lines to `logs/<pipeline>-<stamp>.log` and readable lines to stdout. */
export function createLogger(options: LogOptions): { logger: Logger; file: string } {
  mkdirSync(options.logDir, { recursive: true })
  const file = join(options.logDir, `${options.pipeline}-${options.stamp}.log`)
  const level = options.level === 'silent' ? 'silent' : options.level
  // Synchronous destinations: a run killed with SIGKILL still leaves every line written so far.
  const streams: pino.StreamEntry[] = [{ level: 'debug', stream: pino.destination({ dest: file, sync: true }) }]
  if (options.console) {
    streams.push({
      level: 'debug',
      stream: pretty({
        sync: true,
        colorize: process.stdout.isTTY === true,
        ignore: 'pid,hostname,pipeline',
        translateTime: 'SYS:HH:MM:ss',
        singleLine: true,
      }),
    })
  }
  const logger = pino({ level, base: { pipeline: options.pipeline } }, pino.multistream(streams))
  return { logger, file }
}
