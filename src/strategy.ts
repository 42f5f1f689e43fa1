import type { ResolvedSettings, StrategyName } from './config.js'
import type { Source } from './source.js'
import type { KeyRange } from './types.js'
import { streaming } from './strategies/streaming.js'
import { chunked } from './strategies/chunked.js'
import { parallel } from './strategies/parallel.js'

/**
 * A strategy decides which key ranges a fresh run cuts the table into and how many of them run at
 * once; every range then goes through the same pipeline (`runRange`).
 */
export interface Strategy {
  plan(source: Source, settings: ResolvedSettings): Promise<KeyRange[]>
  concurrency(settings: ResolvedSettings): number
}

export function strategyFor(name: StrategyName): Strategy {
  switch (name) {
    case 'streaming':
      return streaming
    case 'chunked':
      return chunked
    case 'parallel':
      return parallel
    default:
      return name satisfies never
  }
}

