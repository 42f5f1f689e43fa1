// Defaults and CHECK conditions moved between SQL engines. An expression is read into a small
// portable form (literals, column names, comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, IS NULL,
// arithmetic, a few functions every engine has, the current time and date) and written back in
// the target's spelling. Anything outside that form is not translated: the caller reports it by
// name rather than guess at what it means elsewhere.

export type SqlEngine = 'sqlite' | 'postgres' | 'mysql'

type Token =
  | { readonly t: 'str'; readonly v: string }
  | { readonly t: 'num'; readonly v: string }
  | { readonly t: 'id'; readonly v: string }
  | { readonly t: 'kw'; readonly v: string }
  | { readonly t: 'fn'; readonly v: string }
  | { readonly t: 'op'; readonly v: string }

/** Why an expression cannot be translated. */
export class UntranslatableError extends Error {}

const keywords = new Set(['AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'BETWEEN', 'LIKE', 'TRUE', 'FALSE', 'ESCAPE'])
// Each engine's spelling of the current instant and date.
const nowWords = new Set(['CURRENT_TIMESTAMP', 'NOW', 'LOCALTIMESTAMP', 'LOCALTIME'])
const todayWords = new Set(['CURRENT_DATE', 'CURDATE'])
/** Functions that mean the same in the three engines (LENGTH counts characters: MySQL's CHAR_LENGTH). */
const functions: Record<string, string> = {
  LOWER: 'LOWER',
  UPPER: 'UPPER',
  ABS: 'ABS',
  TRIM: 'TRIM',
  COALESCE: 'COALESCE',
  CHAR_LENGTH: 'LENGTH',
  CHARACTER_LENGTH: 'LENGTH',
}
// PostgreSQL's deparsed expressions cast literals and columns (`'a'::character varying`); casts
// between these types do not change what a default or a condition means, so they are dropped.
const harmlessCasts = /^(text|character varying|varchar|character|bpchar|char|name|integer|int|int2|int4|int8|bigint|smallint|numeric|decimal|real|double precision|float4|float8|boolean|bool|date|timestamp without time zone|timestamp|timestamp with time zone|timestamptz|jsonb|json|uuid|bytea)(\(\d+(,\d+)?\))?(\[\])?$/

/** Reads an expression of `engine` into portable tokens; throws `UntranslatableError` saying what it cannot read. */
export function readExpression(engine: SqlEngine, sql: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  const rest = () => sql.slice(i)
  while (i < sql.length) {
    const c = sql[i]!
    if (/\s/.test(c)) {
      i++
      continue
    }
    if (c === "'") {
      let v = ''
      i++
      for (;;) {
        if (i >= sql.length) throw new UntranslatableError('an unterminated string')
        const d = sql[i]!
        if (d === "'" && sql[i + 1] === "'") (v += "'"), (i += 2)
        else if (d === "'") {
          i++
          break
        } else if (d === '\\' && engine === 'mysql') (v += unescapeMysql(sql[i + 1] ?? '')), (i += 2)
        else (v += d), i++
      }
      tokens.push({ t: 'str', v })
      continue
    }
    const quoted = /^(?:"((?:[^"]|"")*)"|`((?:[^`]|``)*)`|\[([^\]]*)\])/.exec(rest())
    // [name] is SQLite's (and SQL Server's) quoting; PostgreSQL's brackets hold array items.
    if (quoted && !(quoted[3] !== undefined && engine !== 'sqlite')) {
      const v = quoted[1] !== undefined ? quoted[1].replaceAll('""', '"') : quoted[2] !== undefined ? quoted[2].replaceAll('``', '`') : quoted[3]!
      if (quoted[0].startsWith('"') && engine === 'mysql') throw new UntranslatableError(`a double-quoted string ${quoted[0]}`)
      tokens.push({ t: 'id', v })
      i += quoted[0].length
      continue
    }
    const num = /^\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|^\.\d+/.exec(rest())
    if (num) {
      tokens.push({ t: 'num', v: num[0] })
      i += num[0].length
      continue
    }
    const cast = /^::\s*((?:character varying|double precision|(?:timestamp|time)(?:\(\d+\))? with(?:out)? time zone|bit varying|"[^"]+"|[a-z_][a-z0-9_.]*)(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])?)/i.exec(rest())
    if (cast && engine === 'postgres') {
      const type = cast[1]!.trim().toLowerCase().replace(/\s+/g, ' ').replace(/,\s+/, ',')
      // A string cast to any type is a literal of it (`'active'::employee_status`, an enum's label).
      if (!harmlessCasts.test(type) && tokens.at(-1)?.t !== 'str') throw new UntranslatableError(`a cast to ${type}`)
      i += cast[0].length
      continue
    }
    const word = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(rest())
    if (word) {
      i += word[0].length
      tokens.push(...wordToken(engine, word[0], sql, () => i, (n) => (i = n)))
      continue
    }
    const op = /^(<>|!=|<=|>=|\|\||&&|!~~|~~|[=<>+\-*/%(),[\]])/.exec(rest())
    if (!op) throw new UntranslatableError(`\`${c}\``)
    i += op[0].length
    tokens.push(...operatorToken(engine, op[0]))
  }
  return rewriteAny(tokens)
}

function unescapeMysql(c: string): string {
  return ({ n: '\n', r: '\r', t: '\t', '0': '\0', Z: '\x1a' } as Record<string, string>)[c] ?? c
}

function wordToken(engine: SqlEngine, word: string, sql: string, at: () => number, move: (n: number) => void): Token[] {
  const upper = word.toUpperCase()
  const call = /^\s*\(\s*(\d*)\s*\)/.exec(sql.slice(at()))
  // now(), current_timestamp(), current_timestamp(6), CURRENT_TIMESTAMP: the current instant.
  if (nowWords.has(upper) && (call || upper !== 'NOW')) {
    if (call) move(at() + call[0].length)
    return [{ t: 'kw', v: 'NOW' }]
  }
  if (todayWords.has(upper) && (call || upper !== 'CURDATE')) {
    if (call) move(at() + call[0].length)
    return [{ t: 'kw', v: 'TODAY' }]
  }
  // SQLite: datetime('now') and date('now').
  const sqliteNow = /^\s*\(\s*'now'\s*\)/i.exec(sql.slice(at()))
  if (engine === 'sqlite' && sqliteNow && (upper === 'DATETIME' || upper === 'DATE')) {
    move(at() + sqliteNow[0].length)
    return [{ t: 'kw', v: upper === 'DATE' ? 'TODAY' : 'NOW' }]
  }
  if (keywords.has(upper)) return [{ t: 'kw', v: upper }]
  if (upper === 'ANY' || upper === 'ALL' || upper === 'ARRAY') {
    if (engine !== 'postgres') throw new UntranslatableError(`\`${word}\``)
    return [{ t: 'kw', v: upper }]
  }
  if (/^\s*\(/.test(sql.slice(at()))) {
    const fn = functions[upper] ?? (upper === 'LENGTH' && engine !== 'mysql' ? 'LENGTH' : undefined)
    if (!fn) throw new UntranslatableError(`the function \`${word}\``)
    return [{ t: 'fn', v: fn }]
  }
  // A bare name: PostgreSQL folds it to lower case.
  return [{ t: 'id', v: engine === 'postgres' ? word.toLowerCase() : word }]
}

function operatorToken(engine: SqlEngine, op: string): Token[] {
  if (op === '!=') return [{ t: 'op', v: '<>' }]
  if (op === '~~' && engine === 'postgres') return [{ t: 'kw', v: 'LIKE' }]
  if (op === '!~~' && engine === 'postgres') return [{ t: 'kw', v: 'NOT' }, { t: 'kw', v: 'LIKE' }]
  if (op === '&&' && engine === 'mysql') return [{ t: 'kw', v: 'AND' }]
  if (op === '||') return engine === 'mysql' ? [{ t: 'kw', v: 'OR' }] : [{ t: 'op', v: '||' }]
  if (op === '~~' || op === '!~~' || op === '&&') throw new UntranslatableError(`\`${op}\``)
  return [{ t: 'op', v: op }]
}

/**
 * PostgreSQL deparses `x IN ('a', 'b')` as `x = ANY (ARRAY['a', 'b'])` (and NOT IN as `<> ALL`):
 * back to IN, which every engine reads.
 */
function rewriteAny(tokens: Token[]): Token[] {
  const out: Token[] = []
  for (let i = 0; i < tokens.length; i++) {
    const a = tokens[i]!
    const b = tokens[i + 1]
    const negated = a.t === 'op' && a.v === '<>' && b?.t === 'kw' && b.v === 'ALL'
    if (!((a.t === 'op' && a.v === '=' && b?.t === 'kw' && b.v === 'ANY') || negated)) {
      if (a.t === 'kw' && (a.v === 'ANY' || a.v === 'ALL' || a.v === 'ARRAY')) throw new UntranslatableError(`\`${a.v}\``)
      out.push(a)
      continue
    }
    // ANY ( [ ( ] ARRAY [ items ] [ ) ] )
    let j = i + 2
    let opens = 0
    while (tokens[j]?.t === 'op' && tokens[j]!.v === '(') (opens++, j++)
    if (!(tokens[j]?.t === 'kw' && tokens[j]!.v === 'ARRAY' && tokens[j + 1]?.v === '[')) throw new UntranslatableError('`ANY` over something other than a list')
    j += 2
    const items: Token[] = []
    while (j < tokens.length && tokens[j]!.v !== ']') items.push(tokens[j++]!)
    j++
    for (let k = 0; k < opens; k++, j++) if (tokens[j]?.v !== ')') throw new UntranslatableError('`ANY` over something other than a list')
    out.push(...(negated ? [{ t: 'kw', v: 'NOT' } as Token] : []), { t: 'kw', v: 'IN' }, { t: 'op', v: '(' }, ...items, { t: 'op', v: ')' })
    i = j - 1
  }
  return out
}

const quoteId: Record<SqlEngine | 'canonical', (name: string) => string> = {
  postgres: (n) => `"${n.replaceAll('"', '""')}"`,
  sqlite: (n) => `"${n.replaceAll('"', '""')}"`,
  mysql: (n) => `\`${n.replaceAll('`', '``')}\``,
  canonical: (n) => `"${n.toLowerCase()}"`,
}

/** A string literal in the engine's spelling (MySQL sessions keep backslash escapes on). */
export function stringLiteral(engine: SqlEngine | 'canonical', value: string): string {
  const doubled = value.replaceAll("'", "''")
  return `'${engine === 'mysql' ? doubled.replaceAll('\\', '\\\\') : doubled}'`
}

export interface RenderOptions {
  /** The column a default belongs to, when boolean: 0 and 1 become FALSE and TRUE. */
  readonly boolean?: boolean
  /** Digits after the point of the timestamp column a MySQL default belongs to: `CURRENT_TIMESTAMP(6)`. */
  readonly timestampScale?: number
  /** Rename columns (identifier case folding). */
  readonly rename?: (name: string) => string
}

/** The tokens in the target's spelling; throws `UntranslatableError` for what the target lacks. */
export function writeExpression(tokens: readonly Token[], engine: SqlEngine | 'canonical', options: RenderOptions = {}): string {
  const parts: string[] = []
  for (const tok of tokens) {
    switch (tok.t) {
      case 'str':
        parts.push(stringLiteral(engine, tok.v))
        break
      case 'num':
        if (options.boolean && (tok.v === '0' || tok.v === '1')) parts.push(tok.v === '1' ? 'TRUE' : 'FALSE')
        // `0.00` and `0` are one default, as engines print it.
        else parts.push(engine === 'canonical' && /^\d+\.\d*$/.test(tok.v) ? tok.v.replace(/\.?0+$/, '') || '0' : tok.v)
        break
      case 'id':
        parts.push(quoteId[engine](options.rename ? options.rename(tok.v) : tok.v))
        break
      case 'fn':
        parts.push(tok.v === 'LENGTH' && (engine === 'postgres' || engine === 'mysql') ? 'CHAR_LENGTH' : tok.v)
        break
      case 'kw':
        if (tok.v === 'NOW') parts.push(engine === 'mysql' && options.timestampScale ? `CURRENT_TIMESTAMP(${options.timestampScale})` : 'CURRENT_TIMESTAMP')
        else if (tok.v === 'TODAY') parts.push(engine === 'mysql' ? '(CURDATE())' : 'CURRENT_DATE')
        else parts.push(tok.v)
        break
      case 'op':
        if (tok.v === '||' && engine === 'mysql') throw new UntranslatableError('`||` (string concatenation: OR in MySQL)')
        parts.push(tok.v)
    }
  }
  return parts
    .join(' ')
    .replaceAll('( ', '(')
    .replaceAll(' )', ')')
    .replaceAll(' ,', ',')
    .replace(/\b(LOWER|UPPER|ABS|TRIM|COALESCE|LENGTH|CHAR_LENGTH) \(/g, '$1(')
}

/** The column names an expression uses. */
export function columnsOf(tokens: readonly Token[]): string[] {
  return [...new Set(tokens.flatMap((t) => (t.t === 'id' ? [t.v] : [])))]
}

/**
 * `sql` of `from` in the spelling of `to`, or the reason it cannot be. Between two databases of one
 * engine, an expression outside the portable form is carried as it is.
 */
export function translate(
  from: SqlEngine,
  to: SqlEngine,
  sql: string,
  options: RenderOptions = {},
): { sql: string } | { reason: string } {
  try {
    return { sql: writeExpression(readExpression(from, sql), to, options) }
  } catch (err) {
    if (!(err instanceof UntranslatableError)) throw err
    if (from === to) return { sql }
    return { reason: `${err.message} has no translation from ${from} to ${to}` }
  }
}

/**
 * A form to compare defaults and conditions across engines: equal when they mean the same
 * (`'a'::character varying` and `'a'`, `now()` and `CURRENT_TIMESTAMP`); the text itself when
 * it cannot be read.
 */
export function canonicalExpression(engine: SqlEngine, sql: string, options: RenderOptions = {}): string {
  try {
    // Engines parenthesize as they like (PostgreSQL wraps every comparison): compared without them.
    const tokens = readExpression(engine, sql).filter((t) => !(t.t === 'op' && (t.v === '(' || t.v === ')')))
    return writeExpression(withoutBetween(tokens), 'canonical', options)
  } catch (err) {
    if (err instanceof UntranslatableError) return sql
    throw err
  }
}

/** `c BETWEEN a AND b` as `c >= a AND c <= b`, which PostgreSQL prints it as. */
function withoutBetween(tokens: Token[]): Token[] {
  const out: Token[] = []
  for (let i = 0; i < tokens.length; i++) {
    const [c, between, a, and, b] = tokens.slice(i, i + 5)
    if (c?.t === 'id' && between?.t === 'kw' && between.v === 'BETWEEN' && and?.v === 'AND' && a && b) {
      out.push(c, { t: 'op', v: '>=' }, a, and, c, { t: 'op', v: '<=' }, b)
      i += 4
    } else out.push(tokens[i]!)
  }
  return out
}
