// Issue 10, item 11: no credential reaches anything a run writes or throws — console, log file,
// report, checkpoint, rejected-rows file, error messages — whatever form it is given in: URL
// user-info (also with an `@` in the password), `?password=`, a misspelled scheme, and option
// objects at any depth (`password`, `ssl.key`, `ssl.passphrase`).
import { generateKeyPairSync } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import type { PipelineSettings } from '../src/config.js'
import { resolvePipeline, runPipeline } from '../src/run.js'
import { ferryIndex, runCli, runId } from './engines.js'
import { itemsDb, range, tempDir, testSettings } from './helpers.js'
import { dropTables, pgQuery, requireServers, servers } from './servers.js'

const withPostgres = await requireServers('postgres')
const run = runId('secret')

const { privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
})

/** Each secret, by the form it was given in. */
const secrets = {
  'user-info password with an @ (head)': 'AtS3cretHead',
  'user-info password with an @ (tail)': 'AtS3cretTail',
  'user-info password': 'UsrInfoS3cret',
  '?password= parameter': 'QryParamS3cret',
  'options password': 'OptS3cret',
  'ssl.passphrase option': 'PassphraseS3cret',
  'ssl.key PEM header': 'BEGIN PRIVATE KEY',
  'ssl.key PEM body': privateKey.split('\n')[1]!,
  'ssl.cert PEM body': 'CertBodyS3cret',
  'nested token option': 'TokenS3cret',
  'misspelled scheme password': 'TypoS3cret',
  'unreachable user-info password': 'UnreachS3cret',
  'unreachable ?password= parameter': 'LostQpS3cret',
  'unreachable mysql password': 'MyS3cret',
} as const

/** The secrets found in a text, by form. */
const leaks = (text: string) => Object.entries(secrets).flatMap(([form, secret]) => (text.includes(secret) ? [form] : []))

/** Every file under a folder, recursively, with its text. */
function filesUnder(dir: string): { file: string; text: string }[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return []
  }
  return names.flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [{ file: path, text: readFileSync(path, 'utf8') }]
  })
}

const pg = new URL(servers.postgres)
const withPassword = (password: string, raw = false) =>
  `postgres://${pg.username || 'postgres'}:${raw ? password : encodeURIComponent(password)}@${pg.host}${pg.pathname}`

if (withPostgres) {
  test.after.always(async () => {
    await dropTables(new RegExp(`^${run}`)).catch(() => {})
  })

  test('a run with credentials in every form leaves none on the console, in the log, report, checkpoint or rejected-rows file, or in thrown errors (postgres)', async (t) => {
    const dir = tempDir()
    const out = join(dir, 'out')
    const pipelines = join(dir, 'pipelines')
    mkdirSync(pipelines)
    await pgQuery(
      `CREATE TABLE "${run}_src" AS SELECT g AS id, 'item ' || g AS name, g % 100 AS qty FROM generate_series(1, 500) g`,
      `ALTER TABLE "${run}_src" ADD PRIMARY KEY (id)`,
      // Rows with qty >= 95 are refused: the run leaves a rejected-rows file.
      `CREATE TABLE "${run}_dst0" (id integer PRIMARY KEY, name text NOT NULL, qty integer CHECK (qty < 95))`,
    )
    const options = {
      engine: 'postgres',
      host: pg.hostname,
      port: Number(pg.port || 5432),
      user: pg.username || 'postgres',
      database: pg.pathname.slice(1),
      password: secrets['options password'],
      ssl: { rejectUnauthorized: false, key: privateKey, passphrase: secrets['ssl.passphrase option'] },
    }
    const settings = {
      onRejectedRow: 'skip',
      batchSize: 100,
      checkpointDir: join(out, 'checkpoints'),
      logDir: join(out, 'logs'),
      reportDir: join(out, 'reports'),
      tables: [
        {
          // The password holds an `@`, written as users write it (not percent-encoded).
          source: withPassword(`${secrets['user-info password with an @ (head)']}@${secrets['user-info password with an @ (tail)']}`, true),
          target: `postgres://${pg.username || 'postgres'}@${pg.host}${pg.pathname}?password=${secrets['?password= parameter']}`,
          sourceTable: `${run}_src`,
          targetTable: `${run}_dst0`,
          // Fails after the load: the run ends FAILED and leaves this table's checkpoint behind.
          after: '__AFTER__',
        },
        {
          // Not run (the table before fails): its options reach only the report. (Once the pg
          // driver has been given an options object it hides `ssl.key`; this one it never sees.)
          source: withPassword(secrets['user-info password']),
          target: {
            ...options,
            ssl: { ...options.ssl, cert: `-----BEGIN CERTIFICATE-----\n${secrets['ssl.cert PEM body']}\n-----END CERTIFICATE-----\n` },
            extra: { auth: { token: secrets['nested token option'] } },
          },
          sourceTable: `${run}_src`,
          targetTable: `${run}_dst1`,
        },
      ],
    }
    const file = join(pipelines, 'secrets.ts')
    writeFileSync(
      file,
      `import { definePipeline } from '${ferryIndex}'\nexport default definePipeline(${JSON.stringify(settings, null, 1).replace('"__AFTER__"', "() => { throw new Error('after step broke') }")} as never)\n`,
    )
    const cli = await runCli(dir, [file])
    t.is(cli.code, 1, cli.stdout + cli.stderr)

    // The same pipeline from code, for the error it returns.
    const { default: pipeline } = (await import(file)) as { default: Parameters<typeof resolvePipeline>[1] }
    const result = await runPipeline(resolvePipeline('secrets', pipeline))
    t.is(result.status, 'FAILED')
    t.regex(result.error?.message ?? '', /after step broke/)

    // A misspelled scheme, from the CLI and from code.
    const typo = join(pipelines, 'typo.ts')
    writeFileSync(
      typo,
      `import { definePipeline } from '${ferryIndex}'\nexport default definePipeline({ source: 'postgress://postgres:${secrets['misspelled scheme password']}@${pg.host}${pg.pathname}', target: 'sqlite:${join(out, 't.db')}', sourceTable: 'items', logDir: '${join(out, 'logs')}', reportDir: '${join(out, 'reports')}', checkpointDir: '${join(out, 'checkpoints')}' })\n`,
    )
    const typoCli = await runCli(dir, [typo])
    t.is(typoCli.code, 2, typoCli.stdout + typoCli.stderr)
    const typoError = t.throws(() =>
      resolvePipeline('typo', { source: `postgress://postgres:${secrets['misspelled scheme password']}@${pg.host}${pg.pathname}`, target: 'sqlite::memory:', sourceTable: 'items' }),
    )

    // Databases that cannot be opened, with credentials in their URLs.
    const unreachablePg = await runPipeline(
      testSettings(out, {
        source: `postgres://postgres:${secrets['unreachable user-info password']}@127.0.0.1:1/nowhere?password=${secrets['unreachable ?password= parameter']}&connect_timeout=2`,
        target: `sqlite:${join(out, 'unreachable.db')}`,
        sourceTable: 'items',
      } as PipelineSettings, 'unreachable'),
    )
    t.is(unreachablePg.status, 'FAILED')
    const unreachableMysql = await runPipeline(
      testSettings(out, {
        source: itemsDb(join(dir, 'items.db'), range(1, 10)),
        target: `mysql://root:${secrets['unreachable mysql password']}@127.0.0.1:1/nowhere`,
        sourceTable: 'items',
      }, 'unreachable-mysql'),
    )
    t.is(unreachableMysql.status, 'FAILED')

    const written = filesUnder(out)
    t.true(written.some((f) => f.file.endsWith('.log')), 'a log file was written')
    t.true(written.some((f) => /reports\/secrets-.*\.json$/.test(f.file)), 'a report was written')
    t.true(written.some((f) => f.file.endsWith('.rejected.jsonl')), 'a rejected-rows file was written')
    t.true(written.some((f) => f.file.includes('checkpoints')), 'a checkpoint was left behind')

    const places: [string, string][] = [
      ['console (run)', cli.stdout + cli.stderr],
      ['console (misspelled scheme)', typoCli.stdout + typoCli.stderr],
      ['returned error (run)', `${result.error?.message} ${String(result.error?.cause ?? '')}`],
      ['thrown error (misspelled scheme)', typoError?.message ?? ''],
      ['returned error (unreachable postgres)', `${unreachablePg.error?.message} ${String(unreachablePg.error?.cause ?? '')}`],
      ['returned error (unreachable mysql)', `${unreachableMysql.error?.message} ${String(unreachableMysql.error?.cause ?? '')}`],
      ...written.map((f): [string, string] => [f.file.slice(out.length + 1), f.text]),
    ]
    const found = places.flatMap(([place, text]) => leaks(text).map((form) => `${place}: ${form}`))
    t.deepEqual(found, [], 'no secret anywhere')
  })
}
