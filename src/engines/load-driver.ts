import { ConfigError, messageOf } from '../errors.js'

/** Imports a module by name; a parameter so that tests can stand in for a missing package. */
export type Importer = (specifier: string) => Promise<unknown>

const importModule: Importer = (specifier) => import(specifier)

/**
 * Loads an optional driver package when an engine first opens a connection, never before: a
 * pipeline that does not name the engine never imports it (package.json lists these drivers as
 * optional dependencies). A missing package is a `ConfigError` saying what to install.
 *
 * @example const sql = await loadDriver<typeof import('mssql')>('mssql', 'SQL Server')
 */
export async function loadDriver<T>(name: string, engine: string, importer: Importer = importModule): Promise<T> {
  try {
    const loaded = (await importer(name)) as { default?: T }
    // CommonJS drivers (mssql, oracledb) arrive as the default export of their namespace.
    return (loaded.default ?? loaded) as T
  } catch (err) {
    if (!isMissingModule(err)) throw err
    throw new ConfigError(
      `the ${engine} engine needs the \`${name}\` driver, which is not installed: run \`npm install ${name}\` (${messageOf(err).split('\n')[0]})`,
      { cause: err },
    )
  }
}

/** Node's codes for a package that cannot be found, by `import` (ESM) or by a `require` inside it (CommonJS). */
function isMissingModule(err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
}
