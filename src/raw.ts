import type { Json, Row } from './types.js'

/**
 * Rows in an engine's own bulk text (PostgreSQL: COPY text format), read by a source's `RawReader`
 * and written by a sink's `RawWriter` of the same format without being decoded into objects: the raw passthrough. A page is
 * one batch: one transaction, one retry unit, one checkpoint step.
 */
export interface RawPage {
  /** The columns of each line, in order. */
  readonly columns: readonly string[]
  /** The text, whole lines only, in the order read. */
  readonly chunks: readonly Buffer[]
  /** Bytes in `chunks`. */
  readonly bytes: number
  readonly rows: number
  /** The position after the last row, exactly as the source's decoded read would report it. */
  readonly position: Json
  /**
   * The rows decoded as the source's decoded read would hand them over: the fallback for a batch
   * the target refuses, which is then split to find the refused rows.
   */
  decode(): Row[]
}
