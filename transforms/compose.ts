import type { Row } from '../src/types.js'

/** A small row function: returns the new row, or null/undefined to drop it. */
export type Step<A, B> = (row: A) => B | null | undefined

/**
 * Chains row functions left to right, with types flowing from each to the next; a step that
 * returns null or undefined drops the row and the later steps are not called.
 *
 * @example
 * transform: compose(rename({ id: 'user_id' }), (r) => ({ ...r, email: r.email.toLowerCase() }))
 */
export function compose<A, B>(f: Step<A, B>): Step<A, B>
export function compose<A, B, C>(f: Step<A, B>, g: Step<B, C>): Step<A, C>
export function compose<A, B, C, D>(f: Step<A, B>, g: Step<B, C>, h: Step<C, D>): Step<A, D>
export function compose<A, B, C, D, E>(
  f: Step<A, B>,
  g: Step<B, C>,
  h: Step<C, D>,
  i: Step<D, E>,
): Step<A, E>
export function compose(...steps: Step<unknown, unknown>[]): Step<unknown, unknown> {
  return (row) => {
    let value: unknown = row
    for (const step of steps) {
      value = step(value)
      if (value == null) return value as null | undefined
    }
    return value
  }
}

/** Renames columns; columns not named pass through. */
export function rename<R extends object, M extends Partial<Record<keyof R, string>>>(mapping: M) {
  return (row: R): Row => {
    const out: Row = {}
    for (const [name, value] of Object.entries(row)) out[(mapping as Record<string, string>)[name] ?? name] = value
    return out
  }
}

/** Keeps the rows for which the predicate holds. */
export function where<R>(predicate: (row: R) => boolean): Step<R, R> {
  return (row) => (predicate(row) ? row : null)
}
