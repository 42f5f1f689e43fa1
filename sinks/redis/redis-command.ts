import { ConfigError } from '../../src/errors.js'

const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t' }

/**
 * A command line split into arguments as redis-cli does: by spaces, with "double" or 'single'
 * quotes around an argument holding spaces (backslash escapes inside double quotes).
 */
export function redisCommand(line: string): string[] {
  const args: string[] = []
  const token = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s"']+))(?=\s|$)/y
  let at = 0
  for (let m = token.exec(line); m !== null; m = token.exec(line)) {
    args.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, (_, c: string) => escapes[c] ?? c) : (m[2] ?? m[3])!)
    at = token.lastIndex
  }
  if (line.slice(at).trim() !== '' || args.length === 0) {
    throw new ConfigError(`\`${line}\` is not a Redis command line (COMMAND arg "quoted arg" …)`)
  }
  return args
}
