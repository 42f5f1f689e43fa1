import type { Strategy } from '../strategy.js'
import { chunksOf } from './chunks.js'

/**
 * The chunked plan handed out from a queue to `numWorkers` workers, each with its own
 * connections; a worker that finishes a chunk takes the next, so no worker idles while work is left.
 */
export const parallel: Strategy = {
  plan: chunksOf,
  concurrency: (s) => s.numWorkers,
}
