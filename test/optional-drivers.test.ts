// The SQL Server and Oracle drivers are optional packages: a pipeline that does not name those
// engines never loads them, and one that does, without the package installed, is told what to
// install. (This file imports nothing that loads them, so that the first test can see.)
import { createRequire } from 'node:module'
import { join } from 'node:path'
import test from 'ava'
import { loadDriver } from '../src/engines/load-driver.js'
import { classifyMssqlError, mssqlConfig } from '../src/engines/mssql.js'
import { MssqlConnection } from '../src/engines/mssql-connection.js'
import { classifyOracleError, oracleConfig } from '../src/engines/oracle.js'
import { OracleConnection } from '../src/engines/oracle-connection.js'
import { SqlSource } from '../src/engines/sql/sql-source.js'
import { ConfigError } from '../src/errors.js'
import { runPipeline } from '../src/run.js'
import { installed } from './drivers.js'
import { itemsDb, range, tempDir, testSettings } from './helpers.js'

const loadedDrivers = () =>
  Object.keys(createRequire(import.meta.url).cache).filter((path) => /[/\\]node_modules[/\\](mssql|tedious|oracledb)[/\\]/.test(path))

test.serial('a pipeline that names neither engine loads neither driver; a connection of one loads it', async (t) => {
  const dir = tempDir()
  const result = await runPipeline(
    testSettings(dir, { source: itemsDb(join(dir, 'source.db'), range(1, 100)), target: `sqlite:${join(dir, 'target.db')}`, sourceTable: 'items' }),
  )
  t.is(result.status, 'SUCCESS')
  t.deepEqual(loadedDrivers(), [])
  // The control: opening a SQL Server connection does load mssql and its tedious (the connection is refused).
  const opened = await t.throwsAsync(new SqlSource(new MssqlConnection(mssqlConfig('mssql://sa:pw@127.0.0.1:1/app?connectTimeout=2000')), classifyMssqlError).open())
  if (!installed('mssql')) return void t.regex(opened.message, /run `npm install mssql`/)
  t.true(loadedDrivers().some((p) => /[/\\]mssql[/\\]/.test(p)))
  t.true(loadedDrivers().some((p) => /[/\\]tedious[/\\]/.test(p)))
  t.false(loadedDrivers().some((p) => /[/\\]oracledb[/\\]/.test(p)))
})

test('a missing driver is a ConfigError that says what to install', async (t) => {
  const err = await t.throwsAsync(loadDriver('ferry-no-such-driver', 'Test'), { instanceOf: ConfigError })
  t.regex(err.message, /^the Test engine needs the `ferry-no-such-driver` driver, which is not installed: run `npm install ferry-no-such-driver` \(Cannot find package 'ferry-no-such-driver'/)
})

test('opening a SQL Server or Oracle connection without its package says `npm install mssql` or `npm install oracledb`', async (t) => {
  // As Node reports a package that is not there, for the real names.
  const missing = async (name: string) => {
    throw Object.assign(new Error(`Cannot find package '${name}' imported from ${import.meta.filename}`), { code: 'ERR_MODULE_NOT_FOUND' })
  }
  const mssql = new MssqlConnection(mssqlConfig('mssql://sa:pw@db/app'), () => loadDriver('mssql', 'SQL Server', missing) as never)
  await t.throwsAsync(new SqlSource(mssql, classifyMssqlError).open(), { message: /^the SQL Server engine needs the `mssql` driver, which is not installed: run `npm install mssql`/ })
  const oracle = new OracleConnection(oracleConfig('oracle://scott:tiger@db/ORCL'), () => loadDriver('oracledb', 'Oracle', missing) as never)
  await t.throwsAsync(new SqlSource(oracle, classifyOracleError).open(), { message: /^the Oracle engine needs the `oracledb` driver, which is not installed: run `npm install oracledb`/ })
})
