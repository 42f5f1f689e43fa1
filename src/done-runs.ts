/**
 * A set of indexes kept as sorted runs of consecutive ones (`[[0, 41], [43, 44]]`): as small as the
 * number of gaps, which stays small while partitions finish roughly in order, so adding one and
 * writing them all cost the same however many are done.
 */
export class DoneRuns {
  readonly #runs: [number, number][] = []
  #size = 0

  constructor(indexes: Iterable<number> = []) {
    for (const i of indexes) this.add(i)
  }

  get size(): number {
    return this.#size
  }

  /** The position of the first run that starts after `index`. */
  #after(index: number): number {
    let lo = 0
    let hi = this.#runs.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.#runs[mid]![0] > index) hi = mid
      else lo = mid + 1
    }
    return lo
  }

  has(index: number): boolean {
    const before = this.#runs[this.#after(index) - 1]
    return before !== undefined && before[1] >= index
  }

  add(index: number): void {
    const j = this.#after(index)
    const before = this.#runs[j - 1]
    const next = this.#runs[j]
    if (before && before[1] >= index) return
    this.#size++
    const joinsBefore = before !== undefined && before[1] === index - 1
    const joinsNext = next !== undefined && next[0] === index + 1
    if (joinsBefore && joinsNext) {
      before[1] = next[1]
      this.#runs.splice(j, 1)
    } else if (joinsBefore) before[1] = index
    else if (joinsNext) next[0] = index
    else this.#runs.splice(j, 0, [index, index])
  }

  /** The runs, inclusive: `[first, last]` each. */
  runs(): [number, number][] {
    return this.#runs.map(([a, b]) => [a, b])
  }
}
