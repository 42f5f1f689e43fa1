import cliProgress from 'cli-progress'
import type { Logger } from './log.js'
import type { Stats } from './stats.js'

/** `done/total (pct) | rate rows/s | ETA`, as logged every few seconds. */
export function progressLine(stats: Stats): string {
  const done = stats.done
  const total = Math.max(stats.total, done)
  const pct = total === 0 ? 100 : (done / total) * 100
  const rate = stats.rate()
  const eta = rate > 0 ? (total - done) / rate : Number.POSITIVE_INFINITY
  return `${done}/${total} (${pct.toFixed(1)}%) | ${Math.round(rate)} rows/s | ETA ${duration(eta)}`
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?'
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const rest = s % 60
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(rest).padStart(2, '0')}s` : `${rest}s`
}

/** Shows a table's progress while it loads; `stop` leaves the screen clean for the summary. */
export interface Progress {
  stop(): void
}

/** Where progress goes: log lines every few seconds, or a bar on a terminal. */
export type ProgressFactory = (table: string, stats: Stats, logger: Logger, intervalMs: number) => Progress

export const progressLines: ProgressFactory = (_table, stats, logger, intervalMs) => {
  const timer = setInterval(() => logger.info(progressLine(stats)), intervalMs)
  timer.unref()
  return { stop: () => clearInterval(timer) }
}

/**
 * A bar for the table (rows, %, rate, ETA) and, with several workers, a line of rows per worker.
 * Redrawn a few times a second from the statistics; nothing on the hot path calls it.
 */
export const progressBar: ProgressFactory = (table, stats) => {
  const bars = new cliProgress.MultiBar(
    {
      format: '{table} |{bar}| {percentage}% | {value}/{total} rows | {rate} rows/s | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
      stopOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  )
  const main = bars.create(Math.max(stats.total, 1), stats.done, { table, rate: 0 })
  const workers: cliProgress.SingleBar[] = []
  const timer = setInterval(() => {
    main.setTotal(Math.max(stats.total, stats.done, 1))
    main.update(stats.done, { rate: Math.round(stats.rate()) })
    stats.workers.forEach((rows, i) => {
      if (stats.workers.length < 2) return
      workers[i] ??= bars.create(0, 0, {}, { format: `  worker ${i + 1}: {value} rows` })
      workers[i]!.update(rows)
    })
  }, 200)
  timer.unref()
  return {
    stop: () => {
      clearInterval(timer)
      bars.stop()
    },
  }
}
