// Error classification from errors made as the drivers make them: tedious' RequestError with the
// server's number (one, or several in an AggregateError), mssql's wrappers, oracledb's errors with
// errorNum and an ORA- code, its batch errors (a message and an offset, nothing more) and its
// NJS- errors for a broken connection.
import { createRequire } from 'node:module'
import { classifyMssqlError, isConnectionError as mssqlConnectionLost } from '../src/engines/mssql.js'
import { classifyOracleError, isConnectionError as oracleConnectionLost } from '../src/engines/oracle.js'
import { type FailureKind, SinkWriteError } from '../src/errors.js'
import { batchError } from './fixtures/fake-oracle.js'
import { withDrivers } from './drivers.js'

const test = withDrivers('mssql', 'oracledb')

const require = createRequire(import.meta.url)
type ErrorClass = new (message: unknown, code?: string) => Error
// The drivers are optional packages: required when the tests run, not when the file loads.
const mssql = () => require('mssql') as { RequestError: ErrorClass; ConnectionError: ErrorClass }
const tedious = () => createRequire(require.resolve('mssql'))('tedious') as { RequestError: ErrorClass; ConnectionError: ErrorClass }
const oracleErrors = () =>
  require('oracledb/lib/errors.js') as { getErr(n: number): Error; transformErr(err: Error): Error; ERR_CONNECTION_CLOSED: number; ERR_NAN_VALUE: number }

/** A server error as tedious' token handler makes it: a RequestError carrying the token's fields. */
function serverError(number: number, message: string): Error {
  return Object.assign(new (tedious().RequestError)(message, 'EREQUEST'), { number, state: 1, class: 16, serverName: 'db', procName: '', lineNumber: 1 })
}

/** The same error as mssql hands it on: its own RequestError around one with the token in `info`. */
function mssqlError(number: number, message: string): Error {
  return new (mssql().RequestError)(Object.assign(new Error(message), { info: { number, state: 1, class: 16, message } }), 'EREQUEST')
}

test('SQL Server: server numbers → rejected rows, retries, or a stop; through tedious’ and mssql’s error shapes', (t) => {
  const cases: [number, FailureKind, string][] = [
    [2627, 'rejected', "Violation of PRIMARY KEY constraint 'PK_t'. Cannot insert duplicate key in object 'dbo.t'."],
    [2601, 'rejected', "Cannot insert duplicate key row in object 'dbo.t' with unique index 'ux'."],
    [515, 'rejected', "Cannot insert the value NULL into column 'name', table 'app.dbo.t'; column does not allow nulls."],
    [547, 'rejected', 'The INSERT statement conflicted with the CHECK constraint "ck_qty".'],
    [2628, 'rejected', "String or binary data would be truncated in table 'app.dbo.t', column 'name'."],
    [8115, 'rejected', 'Arithmetic overflow error converting numeric to data type numeric.'],
    [4815, 'rejected', 'Received an invalid column length from the bcp client for colid 2.'],
    [8672, 'rejected', 'The MERGE statement attempted to UPDATE or DELETE the same row more than once.'],
    [1205, 'transient', 'Transaction (Process ID 52) was deadlocked on lock resources with another process and has been chosen as the deadlock victim.'],
    [1222, 'transient', 'Lock request time out period exceeded.'],
    [40613, 'transient', "Database 'app' on server 'db' is not currently available."],
    [208, 'fatal', "Invalid object name 't'."],
    [229, 'fatal', "The INSERT permission was denied on the object 't'."],
    [102, 'fatal', "Incorrect syntax near ')'."],
  ]
  for (const [number, kind, message] of cases) {
    t.is(classifyMssqlError(serverError(number, message)), kind, `tedious ${number}`)
    t.is(classifyMssqlError(mssqlError(number, message)), kind, `mssql ${number}`)
  }
  // tedious gathers several errors of one request in an AggregateError; 3621 only says the statement ended.
  t.is(classifyMssqlError(new AggregateError([serverError(2627, 'Violation of PRIMARY KEY'), serverError(3621, 'The statement has been terminated.')])), 'rejected')
  t.is(classifyMssqlError(new AggregateError([serverError(3621, 'The statement has been terminated.'), serverError(1205, 'deadlocked')])), 'transient')
})

test('SQL Server: a lost, closed or timed-out connection is transient and needs a new one', (t) => {
  for (const err of [
    new (tedious().ConnectionError)('Connection lost - read ECONNRESET', 'ESOCKET'),
    new (tedious().RequestError)('Connection closed before request completed.', 'ECLOSE'),
    new (tedious().RequestError)('Timeout: Request failed to complete in 15000ms', 'ETIMEOUT'),
    new (mssql().ConnectionError)(new (tedious().ConnectionError)('Failed to connect to db:1433 - connect ECONNREFUSED', 'ESOCKET')),
    new (mssql().ConnectionError)('Connection is closed.', 'ECONNCLOSED'),
  ]) {
    t.is(classifyMssqlError(err), 'transient', err.message)
    t.true(mssqlConnectionLost(err), err.message)
  }
  t.false(mssqlConnectionLost(serverError(2627, 'duplicate')))
  t.is(classifyMssqlError(new TypeError('Invalid number.')), 'rejected', 'a value tedious cannot encode is the row’s fault')
  t.is(classifyMssqlError(new SinkWriteError('forced', 'fatal')), 'fatal')
})

/** A statement's error as oracledb thin raises it: errorNum and offset, then its code from the message. */
const oraError = (errorNum: number, message: string) => oracleErrors().transformErr(Object.assign(new Error(message), { errorNum, offset: 0 }))

test('Oracle: ORA numbers → rejected rows, retries, or a stop, from a statement’s error and from a batch error alike', (t) => {
  const cases: [string, FailureKind][] = [
    ['ORA-00001: unique constraint (APP.PK_T) violated', 'rejected'],
    ['ORA-01400: cannot insert NULL into ("APP"."T"."NAME")', 'rejected'],
    ['ORA-12899: value too large for column "APP"."T"."NAME" (actual: 21, maximum: 20)', 'rejected'],
    ['ORA-01438: value larger than specified precision allowed for this column', 'rejected'],
    ['ORA-01722: invalid number', 'rejected'],
    ['ORA-02290: check constraint (APP.CK_QTY) violated', 'rejected'],
    ['ORA-02291: integrity constraint (APP.FK_T) violated - parent key not found', 'rejected'],
    ['ORA-30926: unable to get a stable set of rows in the source tables', 'rejected'],
    ['ORA-00060: deadlock detected while waiting for resource', 'transient'],
    ['ORA-00054: resource busy and acquire with NOWAIT specified or timeout expired', 'transient'],
    ['ORA-08177: can\'t serialize access for this transaction', 'transient'],
    ['ORA-00942: table or view does not exist', 'fatal'],
    ['ORA-01031: insufficient privileges', 'fatal'],
    ['ORA-00904: "NAME": invalid identifier', 'fatal'],
  ]
  for (const [message, kind] of cases) {
    const number = Number(message.slice(4, 9))
    const statement = oraError(number, message)
    t.is((statement as { code?: string }).code, message.slice(0, 9), 'the driver sets the code from the message')
    t.is(classifyOracleError(statement), kind, message)
    t.is(classifyOracleError(batchError(3, message)), kind, `batch error: ${message}`)
  }
})

test('Oracle: a broken connection (NJS-500, whatever ORA error caused it) is transient and needs a new one', (t) => {
  const broken = oraError(3113, 'ORA-03113: end-of-file on communication channel')
  t.is((broken as { code?: string }).code, 'NJS-500', 'oracledb turns ORA-03113 into NJS-500')
  for (const err of [broken, oracleErrors().getErr(oracleErrors().ERR_CONNECTION_CLOSED), Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1521'), { code: 'ECONNREFUSED' })]) {
    t.is(classifyOracleError(err), 'transient', err.message)
    t.true(oracleConnectionLost(err), err.message)
  }
  t.false(oracleConnectionLost(oraError(1, 'ORA-00001: unique constraint (APP.PK_T) violated')))
  t.is(classifyOracleError(oracleErrors().getErr(oracleErrors().ERR_NAN_VALUE)), 'fatal', 'a driver error that is no row’s fault and no lost connection stops')
})
