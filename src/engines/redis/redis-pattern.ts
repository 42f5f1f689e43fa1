import { ConfigError } from '../../errors.js'

/**
 * A Redis "table": a key pattern such as `user:{user_id}` or `order:{order_id}:line:{line}`. Each
 * `{name}` is a column of the key, filled with the column's text; `{{` and `}}` are literal braces.
 * Every key the pattern's glob (`user:*`) matches is a row of the table.
 */
export class KeyPattern {
  /** The placeholders' columns, in the order they appear in the pattern. */
  readonly columns: readonly string[]
  /** The literal text around the placeholders: one more than there are columns. */
  readonly literals: readonly string[]
  /** The pattern as a SCAN MATCH glob: placeholders become `*`, glob characters are escaped. */
  readonly glob: string
  readonly #regex: RegExp

  constructor(readonly text: string) {
    const { columns, literals } = split(text)
    this.columns = columns
    this.literals = literals
    this.glob = literals.map(escapeGlob).join('*')
    // Each part but the last ends at the first place its following literal fits; `build` checks
    // that a row's values come back the same way, so a key always parses into the values it holds.
    const parts = literals.slice(1).map((lit, i) => `([\\s\\S]${i < columns.length - 1 ? '*?' : '*'})${escapeRegex(lit)}`)
    this.#regex = new RegExp(`^${escapeRegex(literals[0]!)}${parts.join('')}$`)
  }

  /** The key for the columns' texts (in `columns` order), or undefined when it would not parse back into them. */
  build(texts: readonly string[]): string | undefined {
    let key = this.literals[0]!
    for (let i = 0; i < texts.length; i++) key += texts[i]! + this.literals[i + 1]!
    const back = this.parse(key)
    return back && back.every((t, i) => t === texts[i]) ? key : undefined
  }

  /** The columns' texts of a key, or undefined when the key does not fit the pattern. */
  parse(key: string): string[] | undefined {
    const m = this.#regex.exec(key)
    return m ? m.slice(1) : undefined
  }
}

/** Parses `text` as a key pattern; a `ConfigError` says what is wrong with it. */
export function keyPattern(text: string, setting = 'table'): KeyPattern {
  try {
    return new KeyPattern(text)
  } catch (err) {
    if (!(err instanceof PatternError)) throw err
    throw new ConfigError(
      `setting \`${setting}\`: \`${text}\` is not a Redis key pattern: ${err.message} (a Redis table is a key pattern such as 'user:{user_id}', each {column} a part of the key)`,
    )
  }
}

class PatternError extends Error {}

function split(text: string): { columns: string[]; literals: string[] } {
  const columns: string[] = []
  const literals: string[] = []
  let literal = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if ((c === '{' || c === '}') && text[i + 1] === c) {
      literal += c
      i++
    } else if (c === '{') {
      const end = text.indexOf('}', i)
      const name = end === -1 ? '' : text.slice(i + 1, end)
      if (end === -1 || name === '' || name.includes('{')) throw new PatternError(`the \`{\` at ${i + 1} opens no \`{column}\``)
      if (columns.includes(name)) throw new PatternError(`column \`${name}\` appears twice`)
      if (columns.length > 0 && literal === '') throw new PatternError(`\`{${columns.at(-1)}}\` and \`{${name}}\` need text between them to be told apart`)
      literals.push(literal)
      columns.push(name)
      literal = ''
      i = end
    } else if (c === '}') {
      throw new PatternError(`the \`}\` at ${i + 1} closes nothing (write \`}}\` for a literal brace)`)
    } else {
      literal += c
    }
  }
  literals.push(literal)
  if (columns.length === 0) throw new PatternError('it has no {column}')
  return { columns, literals }
}

// https://redis.io/docs/latest/commands/keys/: `*`, `?`, `[…]` and `\` are special in a glob.
const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&')
const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
