// Issue 10, item 11: `--check` and `--dry-run` print endpoints and driver errors too; no
// credential reaches their output or their log file, whether the check passes or fails.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { ferryIndex, runCli, runId } from './engines.js'
import { tempDir } from './helpers.js'
import { dropTables, pgQuery, requireServers, servers } from './servers.js'

const withPostgres = await requireServers('postgres')
const run = runId('secret_check')
const secrets = ['UsrInfoChkS3cret', 'QryChkS3cret', 'OptChkS3cret', 'LostChkS3cret']

const pg = new URL(servers.postgres)
// The test server trusts localhost: the passwords are sent and ignored.
const source = `postgres://${pg.username || 'postgres'}:${secrets[0]}@${pg.host}${pg.pathname}?password=${secrets[1]}`

function pipelineFile(dir: string, name: string, target: unknown): string {
  const file = join(dir, 'pipelines', `${name}.ts`)
  mkdirSync(join(dir, 'pipelines'), { recursive: true })
  const settings = { source, target, sourceTable: `${run}_src`, logDir: join(dir, 'logs'), reportDir: join(dir, 'reports') }
  writeFileSync(file, `import { definePipeline } from '${ferryIndex}'\nexport default definePipeline(${JSON.stringify(settings)} as never)\n`)
  return file
}

const leaks = (text: string) => secrets.filter((s) => text.includes(s))
const logs = (dir: string) => readdirSync(join(dir, 'logs')).map((f) => readFileSync(join(dir, 'logs', f), 'utf8')).join('\n')

if (withPostgres) {
  test.before(async () => {
    await pgQuery(`CREATE TABLE "${run}_src" AS SELECT g AS id FROM generate_series(1, 10) g`, `ALTER TABLE "${run}_src" ADD PRIMARY KEY (id)`)
  })
  test.after.always(async () => {
    await dropTables(new RegExp(`^${run}`)).catch(() => {})
  })

  for (const flag of ['--check', '--dry-run']) {
    test(`${flag} that passes prints no credential`, async (t) => {
      const dir = tempDir()
      const file = pipelineFile(dir, 'ok', { engine: 'sqlite', filename: join(dir, 't.db'), password: secrets[2] })
      const cli = await runCli(dir, [file, flag])
      t.is(cli.code, 0, cli.stdout + cli.stderr)
      if (flag === '--check') t.regex(cli.stdout, /postgres:\/\/\w+:\*\*\*@.*\?password=\*\*\*/)
      t.deepEqual(leaks(cli.stdout + cli.stderr + logs(dir)), [])
    })

    test(`${flag} that cannot open the target prints no credential`, async (t) => {
      const dir = tempDir()
      const file = pipelineFile(dir, 'lost', `mysql://root:${secrets[3]}@127.0.0.1:1/nowhere`)
      const cli = await runCli(dir, [file, flag])
      t.is(cli.code, 2, cli.stdout + cli.stderr)
      t.regex(cli.stderr, /cannot open the target database `mysql:\/\/root:\*\*\*@127\.0\.0\.1:1\/nowhere`/)
      t.deepEqual(leaks(cli.stdout + cli.stderr + logs(dir)), [])
    })
  }
}
