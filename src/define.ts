import type { PipelineSettings } from './config.js'
import type { Row } from './types.js'

const marker = Symbol.for('ferry.pipeline')

/** A pipeline file's default export. */
export interface Pipeline<S extends object = Row, T extends object = S> {
  readonly [marker]: true
  readonly settings: Readonly<PipelineSettings<S, T>>
}

/**
 * Declares a pipeline: `export default definePipeline<LegacyUser, User>({ … })`. The settings are
 * checked when the pipeline runs, before any connection opens.
 */
export function definePipeline<S extends object = Row, T extends object = S>(
  settings: PipelineSettings<S, T>,
): Pipeline<S, T> {
  return Object.freeze({ [marker]: true as const, settings: Object.freeze({ ...settings }) })
}

export function isPipeline(value: unknown): value is Pipeline {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true
}
