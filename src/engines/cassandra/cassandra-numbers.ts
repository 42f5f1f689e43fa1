/**
 * Exact decimals for CQL's `decimal` and `varint`: ferry's decimal text (plain or with an
 * exponent) to the wire bytes (a 32-bit scale, then the unscaled value in two's complement) and
 * back to plain text. The driver's BigDecimal.fromString reads `1E+3` as 1 and its toString
 * misplaces the point of a negative scale, so neither is used.
 */

/** `-12.50` → { unscaled: -1250n, scale: 2 }; `1E+3` → { unscaled: 1n, scale: -3 }; undefined when not a decimal. */
export function parseDecimal(text: string): { unscaled: bigint; scale: number } | undefined {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?\s*$/i.exec(text)
  if (!m || (m[2] === '' && !m[3])) return undefined
  const fraction = m[3] ?? ''
  const scale = fraction.length - Number(m[4] ?? 0)
  // Far beyond any real decimal, and it keeps the texts made from it small.
  if (!Number.isSafeInteger(scale) || Math.abs(scale) > 100_000) return undefined
  const unscaled = BigInt(`${m[1] === '-' ? '-' : ''}${m[2] || '0'}${fraction}`)
  return { unscaled, scale }
}

/** Two's complement, big-endian, in the fewest bytes (CQL varint). */
export function varintBytes(value: bigint): Buffer {
  let bytes = 1
  while (value < -(1n << BigInt(8 * bytes - 1)) || value >= 1n << BigInt(8 * bytes - 1)) bytes++
  const unsigned = value < 0n ? (1n << BigInt(8 * bytes)) + value : value
  return Buffer.from(unsigned.toString(16).padStart(bytes * 2, '0'), 'hex')
}

export function varintValue(bytes: Buffer): bigint {
  if (bytes.length === 0) return 0n
  const magnitude = BigInt(`0x${bytes.toString('hex')}`)
  return (bytes[0]! & 0x80) !== 0 ? magnitude - (1n << BigInt(bytes.length * 8)) : magnitude
}

/** The wire bytes of a decimal text, or undefined when it is not one. */
export function decimalBytes(text: string): Buffer | undefined {
  const parsed = parseDecimal(text)
  if (!parsed) return undefined
  const scale = Buffer.alloc(4)
  scale.writeInt32BE(parsed.scale)
  return Buffer.concat([scale, varintBytes(parsed.unscaled)])
}

/** Plain text of an unscaled value and scale: no exponent, trailing zeros as stored (`1.50`). */
export function decimalText(unscaled: bigint, scale: number): string {
  const negative = unscaled < 0n
  let digits = (negative ? -unscaled : unscaled).toString()
  if (scale <= 0) return `${negative ? '-' : ''}${digits}${'0'.repeat(-scale)}`.replace(/^-0$/, '0')
  digits = digits.padStart(scale + 1, '0')
  const text = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`
  return negative ? `-${text}` : text
}

/** A decimal's plain text from its wire bytes. */
export function decimalFromBytes(bytes: Buffer): string {
  return decimalText(varintValue(bytes.subarray(4)), bytes.readInt32BE(0))
}

/** The whole number a decimal text holds (`12`, `12.00`, `1.2E+1`), or undefined when it has a fraction. */
export function wholeNumber(text: string): bigint | undefined {
  const parsed = parseDecimal(text)
  if (!parsed) return undefined
  if (parsed.scale <= 0) return parsed.unscaled * 10n ** BigInt(-parsed.scale)
  const power = 10n ** BigInt(parsed.scale)
  return parsed.unscaled % power === 0n ? parsed.unscaled / power : undefined
}

/** Whether two decimal texts are the same number (`1.50` and `15E-1`). */
export function sameNumber(a: string, b: string): boolean {
  const [x, y] = [parseDecimal(a), parseDecimal(b)]
  if (!x || !y) return false
  const scale = Math.max(x.scale, y.scale)
  return x.unscaled * 10n ** BigInt(scale - x.scale) === y.unscaled * 10n ** BigInt(scale - y.scale)
}

/** A Date as UTC ISO text whatever its year (toISOString writes `+010000-…` beyond 9999, which ferry's timestamps do not parse). */
export function instantText(date: Date): string {
  const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0')
  const year = date.getUTCFullYear()
  return `${year < 0 ? '-' : ''}${pad(year, 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${pad(date.getUTCMilliseconds(), 3)}Z`
}
