// Connection strings of SQL Server and Oracle: parsed into driver options, refused with a reason
// when malformed, never printed with their password; and the real drivers take what ferry makes
// of them (a refused connection comes back as a transient, redacted error).
import test from 'ava'
import { mssqlConfig } from '../src/engines/mssql.js'
import { oracleConfig } from '../src/engines/oracle.js'
import { describeEndpoint, engineOf, openSink, openSource } from '../src/engines/registry.js'
import { redactUrl } from '../src/redact.js'
import { withDrivers } from './drivers.js'

test('SQL Server URLs: mssql:// and sqlserver://, credentials decoded, known parameters only', (t) => {
  const config = mssqlConfig('mssql://sa:p%40ss%3Aw0rd@db.example.com:1433/app?encrypt=false&trustServerCertificate=true&connectTimeout=5000')
  t.like(config, {
    server: 'db.example.com',
    port: 1433,
    user: 'sa',
    password: 'p@ss:w0rd',
    database: 'app',
    connectionTimeout: 5000,
    requestTimeout: 0,
    options: { encrypt: false, trustServerCertificate: true, useUTC: true, lowercaseGuids: true, abortTransactionOnError: true },
    pool: { max: 1 },
  })
  t.like(mssqlConfig('sqlserver://db/app?instanceName=SQLEXPRESS'), { server: 'db', database: 'app', options: { instanceName: 'SQLEXPRESS' } })
  t.like(mssqlConfig({ engine: 'mssql', server: 'db', database: 'app', options: { encrypt: false } }), { server: 'db', options: { encrypt: false, useUTC: true } })
  t.throws(() => mssqlConfig('mssql://sa:secret@db/app?ssl=true'), {
    message: 'mssql URL parameter `ssl` is not known; known: encrypt, trustServerCertificate, instanceName, appName, connectTimeout, requestTimeout, domain',
  })
  t.throws(() => mssqlConfig('mssql://sa:secret@db/app?encrypt=yes'), { message: 'mssql URL parameter `encrypt` must be `true` or `false` (got `yes`)' })
  t.throws(() => mssqlConfig('mssql://sa:secret@db/SQLEXPRESS/app'), {
    message: 'SQL Server URL `mssql://sa:***@db/SQLEXPRESS/app`: the path is the database (mssql://user:password@host:1433/database); give an instance as `?instanceName=`',
  })
  t.throws(() => mssqlConfig('mssql://sa:secret@'), { message: '`mssql://sa:***@` is not a valid SQL Server URL (mssql://user:password@host:1433/database)' })
  t.throws(() => mssqlConfig({ engine: 'mssql', host: 'db' }), { message: 'mssql connection options need a `server`' })
})

test('Oracle URLs: oracle://user:password@host:port/service becomes an Easy Connect string', (t) => {
  t.deepEqual(oracleConfig('oracle://scott:ti%2Fger@db.example.com:1521/ORCLPDB1'), { connectString: 'db.example.com:1521/ORCLPDB1', user: 'scott', password: 'ti/ger' })
  t.deepEqual(oracleConfig('oracle://scott:tiger@[::1]:1521/FREEPDB1'), { connectString: '[::1]:1521/FREEPDB1', user: 'scott', password: 'tiger' })
  t.deepEqual(oracleConfig({ engine: 'oracle', user: 'scott', password: 'tiger', connectString: 'prod_tns' }), { user: 'scott', password: 'tiger', connectString: 'prod_tns' })
  t.throws(() => oracleConfig('oracle://scott:tiger@db/X?sid=ORCL'), {
    message: "Oracle URL `oracle://scott:***@db/X?sid=ORCL` takes no parameters; give options as `{ engine: 'oracle', connectString, … }`",
  })
  t.throws(() => oracleConfig({ engine: 'oracle', user: 'scott' }), { message: 'oracle connection options need a `connectString` (host:1521/service)' })
})

test('both reach the registry by their schemes, and print without their password', (t) => {
  t.is(engineOf('mssql://sa:pw@db/app'), 'mssql')
  t.is(engineOf('SQLServer://sa:pw@db/app'), 'mssql')
  t.is(engineOf('oracle://scott:tiger@db/ORCL'), 'oracle')
  t.is(describeEndpoint('mssql://sa:p%40ss@db:1433/app?encrypt=true'), 'mssql://sa:***@db:1433/app?encrypt=true')
  t.is(redactUrl('oracle://scott:tiger@db:1521/ORCL'), 'oracle://scott:***@db:1521/ORCL')
  t.is(describeEndpoint({ engine: 'oracle', user: 'scott', password: 'tiger', connectString: 'db/ORCL' }), 'oracle connection options')
})

withDrivers('mssql', 'oracledb')('the real drivers take the options: a refused connection is a transient error naming the redacted URL', async (t) => {
  const mssqlUrl = 'mssql://sa:s3cret@127.0.0.1:1/app?connectTimeout=3000'
  const mssqlErr = await t.throwsAsync(openSource(mssqlUrl))
  t.regex(mssqlErr.message, /^cannot open the source database `mssql:\/\/sa:\*\*\*@127\.0\.0\.1:1\/app\?connectTimeout=3000`: Failed to connect to 127\.0\.0\.1:1/)
  t.false(mssqlErr.message.includes('s3cret'))
  const { classifyMssqlError } = await import('../src/engines/mssql.js')
  t.is(classifyMssqlError(mssqlErr.cause), 'transient')

  const oracleUrl = 'oracle://scott:t1ger@127.0.0.1:1/FREEPDB1'
  const oracleErr = await t.throwsAsync(openSink(oracleUrl))
  t.regex(oracleErr.message, /^cannot open the target database `oracle:\/\/scott:\*\*\*@127\.0\.0\.1:1\/FREEPDB1`: NJS-503/)
  t.false(oracleErr.message.includes('t1ger'))
  const { classifyOracleError } = await import('../src/engines/oracle.js')
  t.is(classifyOracleError(oracleErr.cause), 'transient')
})
