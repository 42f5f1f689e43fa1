import { ConfigError } from '../../errors.js'

/** How one SQL engine spells what the shared SQL base writes: all that differs between them. */
export interface SqlSpelling {
  /** A table or column name, quoted so that no name (spaces, quotes, reserved words) is read as SQL. */
  quote(name: string): string
  /** The n-th parameter (1-based): `?`, `$n`, `@pn`, `:n`. */
  param(n: number): string
  /**
   * Whether row values compare in order and use an index (`(a, b) > ($1, $2)`); engines without
   * them get the expanded form `a > ? OR (a = ? AND b > ?)`.
   */
  readonly rowValues: boolean
  /**
   * A complete `SELECT … ORDER BY …` limited to the number of rows in parameter `param`:
   * `… LIMIT ?`, `… FETCH FIRST :n ROWS ONLY`, or `SELECT TOP (@p) …` (SQL Server puts it first).
   */
  limit(select: string, param: string): string
  /** `a % b` (the default); Oracle has no `%` operator and spells it `MOD(a, b)`. */
  modulo?(dividend: string, divisor: string): string
}

/** Quotes with `quote` on both sides, doubling it inside: `"we""ird"`, `` `a``b` ``. */
export function quoteWith(quote: string, name: string): string {
  if (name.includes('\0')) throw new ConfigError(`identifier ${JSON.stringify(name)} contains a NUL`)
  return `${quote}${name.replaceAll(quote, quote + quote)}${quote}`
}

/** Collects a statement's parameters and hands out their placeholders in order. */
export class Params {
  readonly values: unknown[] = []
  constructor(readonly spelling: SqlSpelling) {}

  add(value: unknown): string {
    this.values.push(value)
    return this.spelling.param(this.values.length)
  }
}
