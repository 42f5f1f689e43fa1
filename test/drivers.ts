import { createRequire } from 'node:module'
import test from 'ava'

const require = createRequire(import.meta.url)

/** Whether an optional driver package is installed (`npm install --omit=optional` leaves them out). */
export function installed(name: 'mssql' | 'oracledb'): boolean {
  try {
    require.resolve(name)
    return true
  } catch {
    return false
  }
}

/**
 * `test` when the drivers are installed, else `test.skip`, after one line saying which is missing:
 * the tests that build errors or check bytes with the drivers' own code need them. Under CI, which
 * installs them (`npm ci`), a missing driver fails instead: these tests must not vanish unnoticed.
 */
export function withDrivers(...names: ('mssql' | 'oracledb')[]): typeof test | typeof test.skip {
  const missing = names.filter((n) => !installed(n))
  if (missing.length === 0) return test
  const line = `${missing.join(', ')} not installed (an optional dependency): \`npm install\` to run these tests`
  if (process.env.CI) test(line, (t) => t.fail(line))
  else test.skip(line, () => {})
  return test.skip
}
