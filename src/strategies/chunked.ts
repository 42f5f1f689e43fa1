import type { Strategy } from '../strategy.js'
import { chunksOf } from './chunks.js'

/** Consecutive chunks of `chunkSize` rows, one after another; the checkpoint moves chunk by chunk. */
export const chunked: Strategy = {
  plan: chunksOf,
  concurrency: () => 1,
}
