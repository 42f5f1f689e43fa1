import pRetry from 'p-retry'
import type { FailureKind } from './errors.js'
import type { Page, ReadSpec, Source } from './source.js'
import type { Json } from './types.js'

/** What a partition's read reports as it retries. */
export interface ReadEvents {
  /** A read attempt failed transiently after `position`; `retriesLeft` more will be made, the next in `delay` ms. */
  readFailed(err: unknown, attempt: number, retriesLeft: number, delay: number, position: Json | undefined): void
}

/** How a read survives a lost connection: the same schedule as writes. */
export interface ReadRetry {
  readonly maxRetries: number
  /** Milliseconds before the first retry; doubles each time. */
  readonly retryDelay: number
  /** Stops the retries (and the read) once the partition's pipeline has failed or the run stops. */
  readonly signal: AbortSignal
  /** A read attempt failed transiently after `position`; `retriesLeft` more will be made, the next in `delay` ms. */
  failed(err: unknown, attempt: number, retriesLeft: number, delay: number, position: Json | undefined): void
  /** The read goes on after failed attempts: `attempts` of them are now resolved. */
  resolved(attempts: number): void
}

/**
 * `source.read(spec)`, started again after a transient failure from the position of the last
 * page handed over, with exponential backoff. Positions are exact, so no row is lost or read
 * twice; the source reconnects on its own. Every page gets its own retries, as every batch does.
 */
export function retryingRead(source: Source, spec: ReadSpec, retry: ReadRetry): AsyncGenerator<Page> {
  return retryingPages((after) => source.read({ ...spec, after }), (err) => source.classify(err), spec.after, retry)
}

/**
 * `read(after)` with `retryingRead`'s retries, for any pages that report their position. A raw
 * page may be handed over before it is whole (its position still undefined): when the read fails
 * before that page is whole, the page is void and the read starts again before it.
 */
export async function* retryingPages<P extends { readonly position: Json | undefined }>(
  read: (after: Json | undefined) => AsyncIterable<P>,
  classify: (err: unknown) => FailureKind,
  from: Json | undefined,
  retry: ReadRetry,
): AsyncGenerator<P> {
  let after = from
  // The last page, handed over before it was whole; only it is held (not a decoded page's rows).
  let unsettled: P | undefined
  const settle = (): void => {
    if (unsettled?.position !== undefined) after = unsettled.position
    unsettled = undefined
  }
  let pages: AsyncIterator<P> | undefined
  try {
    for (;;) {
      let failures = 0
      const next = await pRetry(
        async () => {
          pages ??= read(after)[Symbol.asyncIterator]()
          try {
            return await pages.next()
          } catch (err) {
            // A read that threw is over; the next attempt starts a new one from `after`.
            pages = undefined
            settle()
            throw err
          }
        },
        {
          signal: retry.signal,
          retries: retry.maxRetries,
          ...backoff(retry.retryDelay),
          shouldRetry: ({ error }) => classify(error) === 'transient',
          onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
            if (retry.signal.aborted || classify(error) !== 'transient') return
            failures += 1
            retry.failed(error, attemptNumber, retriesLeft, retryDelay(retry, attemptNumber), after)
          },
        },
      )
      if (failures > 0) retry.resolved(failures)
      if (next.done) return
      // Pages are whole in order: the one before this is by now.
      settle()
      if (next.value.position === undefined) unsettled = next.value
      else after = next.value.position
      // No catch around it: an error thrown into the generator here is the consumer's, not the read's.
      yield next.value
    }
  } finally {
    await pages?.return?.()
  }
}

/** The wait before retry number `attempt`, as p-retry computes it without randomness. */
export function retryDelay(retry: { retryDelay: number }, attempt: number): number {
  const { minTimeout, factor, maxTimeout } = backoff(retry.retryDelay)
  return Math.min(minTimeout * factor ** (attempt - 1), maxTimeout)
}

/** The one retry schedule of writes, reads and lookups (p-retry options): doubling from `retryDelay`, at most 5 minutes apart. */
export function backoff(retryDelay: number): { factor: number; minTimeout: number; maxTimeout: number; randomize: false } {
  return { factor: 2, minTimeout: retryDelay, maxTimeout: Math.max(retryDelay, 5 * 60_000), randomize: false }
}
