/**
 * The keys a SCAN has handed over, to drop the ones it returns twice. A `Set` of strings costs
 * about 100 bytes a key here (1M keys: 100 MB); this keeps each key's UTF-8 bytes in one growing
 * buffer behind an open-addressing table of offsets, about 8 bytes a key plus the key itself, and
 * compares keys byte for byte, so a hash collision never drops a key.
 */
export class KeySet {
  #arena = Buffer.allocUnsafe(1 << 16)
  #used = 0
  /** Offset + 1 of each entry in the arena (0: empty slot), and the entry's hash. */
  #slots = new Uint32Array(1 << 10)
  #hashes = new Uint32Array(1 << 10)
  #size = 0

  get size(): number {
    return this.#size
  }

  /** Adds the key; false when it was there already. */
  add(key: string): boolean {
    const length = Buffer.byteLength(key)
    this.#reserve(4 + length)
    // Written at the arena's end first: kept there when new, overwritten next time when not.
    const at = this.#used
    this.#arena.writeUInt32LE(length, at)
    this.#arena.write(key, at + 4, 'utf8')
    const hash = fnv1a(this.#arena, at + 4, at + 4 + length)
    const mask = this.#slots.length - 1
    for (let i = hash & mask; ; i = (i + 1) & mask) {
      const slot = this.#slots[i]!
      if (slot === 0) {
        this.#slots[i] = at + 1
        this.#hashes[i] = hash
        this.#used += 4 + length
        if (++this.#size * 2 > this.#slots.length) this.#grow()
        return true
      }
      if (this.#hashes[i] === hash && this.#same(slot - 1, at, length)) return false
    }
  }

  #same(entry: number, at: number, length: number): boolean {
    return this.#arena.readUInt32LE(entry) === length && this.#arena.compare(this.#arena, at + 4, at + 4 + length, entry + 4, entry + 4 + length) === 0
  }

  #reserve(bytes: number): void {
    if (this.#used + bytes <= this.#arena.length) return
    const bigger = Buffer.allocUnsafe(Math.max(this.#arena.length * 2, this.#used + bytes))
    this.#arena.copy(bigger, 0, 0, this.#used)
    this.#arena = bigger
  }

  #grow(): void {
    const [slots, hashes] = [this.#slots, this.#hashes]
    this.#slots = new Uint32Array(slots.length * 2)
    this.#hashes = new Uint32Array(slots.length * 2)
    const mask = this.#slots.length - 1
    for (let j = 0; j < slots.length; j++) {
      if (slots[j] === 0) continue
      let i = hashes[j]! & mask
      while (this.#slots[i] !== 0) i = (i + 1) & mask
      this.#slots[i] = slots[j]!
      this.#hashes[i] = hashes[j]!
    }
  }
}

/** 32-bit FNV-1a of `bytes[from, to)`. */
function fnv1a(bytes: Buffer, from: number, to: number): number {
  let h = 0x811c9dc5
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193)
  return h >>> 0
}
