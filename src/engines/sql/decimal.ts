/** A decimal text's sign, digits and exponent: `-12.50` → { negative, digits: '1250', exponent: -2 }. */
export function decimalParts(text: string): { negative: boolean; digits: string; exponent: number } {
  const m = /^([+-])?(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/i.exec(text.trim())
  if (!m || (m[2] === '' && !m[3])) throw new TypeError(`${JSON.stringify(text)} is not a decimal number`)
  const fraction = m[3] ?? ''
  return { negative: m[1] === '-', digits: m[2]! + fraction, exponent: Number(m[4] ?? 0) - fraction.length }
}

/**
 * The unscaled integer of a decimal at `scale` (`12.5` at scale 2 is 1250), refusing a value with
 * more digits after the point than the scale or more digits than the precision: never rounded.
 */
export function unscaledDecimal(text: string, precision: number, scale: number): bigint {
  const { negative, digits, exponent } = decimalParts(text)
  const shift = exponent + scale
  let unscaled: bigint
  if (shift >= 0) unscaled = BigInt(digits || '0') * 10n ** BigInt(shift)
  else {
    const kept = digits.slice(0, Math.max(0, digits.length + shift))
    if (/[1-9]/.test(digits.slice(kept.length))) throw new RangeError(`${text} has more than ${scale} digits after the point`)
    unscaled = BigInt(kept || '0')
  }
  if (unscaled >= 10n ** BigInt(precision)) throw new RangeError(`${text} has more than ${precision - scale} digits before the point`)
  return negative ? -unscaled : unscaled
}

/**
 * The significant digits of a decimal (leading and trailing zeros left out) and the power of ten
 * of its first one, or undefined for zero: `0.00120` → { count: 2, magnitude: -3 }.
 */
export function significantDigits(text: string): { count: number; magnitude: number } | undefined {
  const { digits, exponent } = decimalParts(text)
  const leading = digits.length - digits.replace(/^0+/, '').length
  const trimmed = digits.slice(leading).replace(/0+$/, '')
  if (trimmed === '') return undefined
  return { count: trimmed.length, magnitude: digits.length - leading - 1 + exponent }
}
