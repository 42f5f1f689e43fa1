import type { Redis } from 'ioredis'
import type { CheckpointStore } from '../checkpoint.js'
import { FerryError } from '../errors.js'

/** The worker no longer holds the range's job: its lock expired and another worker may have it. */
export class LostRangeError extends FerryError {}

// Checks the job's lock against this worker's token and, in the same atomic step, stores the
// range's checkpoint: a worker stopped (SIGSTOP, a long pause) past its lock wakes up to find
// every store and every commit refused, never overwriting the position of the range's new holder.
// KEYS: the job's lock, the job's hash. ARGV: token, progress ('' only checks).
const storeIfHeld = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[2], 'progress', ARGV[2]) end
return 1`

/**
 * A distributed range's checkpoint store: its job's `progress` field, written only while this
 * worker's token holds the job's lock (BullMQ keys: `<job key>` and `<job key>:lock`).
 */
export function jobStore(redis: Redis, jobKey: string, token: string, worker: string, what: string): CheckpointStore {
  const held = async (progress: string): Promise<void> => {
    const ok = (await redis.eval(storeIfHeld, 2, `${jobKey}:lock`, jobKey, token, progress)) as number
    if (ok !== 1) {
      throw new LostRangeError(`${what} is no longer this worker's: its job lock expired (the worker was stopped or too slow) and another worker holds it; this worker leaves it`)
    }
  }
  return {
    write: (state) => held(`{"worker":${JSON.stringify(worker)},"checkpoint":${state}}`),
    check: () => held(''),
    // The job itself is the range's record: BullMQ completes it, the planner removes it.
    remove: async () => {},
  }
}
