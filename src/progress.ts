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

/** Logs a progress line every `intervalMs` until stopped. */
export function startProgress(logger: Logger, stats: Stats, intervalMs: number): () => void {
  const timer = setInterval(() => logger.info(progressLine(stats)), intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}
