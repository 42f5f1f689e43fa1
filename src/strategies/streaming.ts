import type { Strategy } from '../strategy.js'

/** The whole filtered table as one range, read by one cursor: memory stays at a few batches. */
export const streaming: Strategy = {
  plan: async () => [{}],
  concurrency: () => 1,
}
