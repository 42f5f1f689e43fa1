import { execFile } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import test from 'ava'
import Database from 'better-sqlite3'
import { tempDir } from './helpers.js'

const repo = resolve(import.meta.dirname, '..')
const main = join(repo, 'src', 'cli', 'main.ts')

/** Runs the CLI as `npm run pipeline` does, in its own folder. */
async function cli(cwd: string, args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', import.meta.resolve('tsx'), main, ...args], {
      cwd,
      env: { ...process.env, FERRY_PIPELINES: join(repo, 'pipelines'), ...env },
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

test('without a name the CLI lists the pipelines', async (t) => {
  const r = await cli(tempDir(), [])
  t.is(r.code, 0)
  t.regex(r.stdout, /^\s+users$/m)
})

test('an unknown pipeline exits 2 naming it and the known ones', async (t) => {
  const r = await cli(tempDir(), ['nosuch'])
  t.is(r.code, 2)
  t.regex(r.stderr, /unknown pipeline `nosuch`; available: .*users/)
})

test('a pipeline with a bad setting exits 2 naming the setting', async (t) => {
  const dir = tempDir()
  mkdirSync(join(dir, 'pipelines'))
  writeFileSync(
    join(dir, 'pipelines', 'bad.ts'),
    `export default { [Symbol.for('ferry.pipeline')]: true, settings: { source: 'sqlite:a.db', target: 'sqlite:b.db', sourceTable: 't', batchSize: 'big' } }\n`,
  )
  const r = await cli(dir, ['bad'], { FERRY_PIPELINES: join(dir, 'pipelines') })
  t.is(r.code, 2)
  t.regex(r.stderr, /setting `batchSize`/)
})

test('a bad flag exits 2 with the usage', async (t) => {
  const r = await cli(tempDir(), ['users', '--batch-size', 'ten'])
  t.is(r.code, 2)
  t.regex(r.stderr, /--batch-size takes a whole number/)
})

test('an unreachable database exits 2 naming it', async (t) => {
  const dir = tempDir()
  const r = await cli(dir, ['users'], { SOURCE_URL: `sqlite:${join(dir, 'missing.db')}` })
  t.is(r.code, 2)
  t.regex(r.stdout + r.stderr, /cannot open the source database `sqlite:.*missing\.db`/)
})

test('a missing table exits 2 naming it', async (t) => {
  const dir = tempDir()
  writeFileSync(join(dir, 'empty.db'), '')
  const r = await cli(dir, ['users'], { SOURCE_URL: `sqlite:${join(dir, 'empty.db')}` })
  t.is(r.code, 2)
  t.regex(r.stdout + r.stderr, /table `users` does not exist/)
})

test('npm run pipeline users runs the demo end to end, with flags', async (t) => {
  const dir = tempDir()
  const r = await cli(dir, ['users', '--strategy', 'parallel', '--workers', '2', '--where', 'id <= 30000'])
  t.is(r.code, 0, r.stdout + r.stderr)
  t.regex(r.stdout, /SUCCESS: 30000 migrated/)
  const [report] = readdirSync(join(dir, 'reports'))
  const parsed = JSON.parse(readFileSync(join(dir, 'reports', report!), 'utf8')) as { summary: { status: string }; configuration: { strategy: string } }
  t.is(parsed.summary.status, 'SUCCESS')
  t.is(parsed.configuration.strategy, 'parallel')
  t.is(readdirSync(join(dir, 'logs')).length, 1)
})

test('a validation that finds a difference exits 1 and names the key', async (t) => {
  const dir = tempDir()
  t.is((await cli(dir, ['users', '--where', 'id <= 20000'])).code, 0)
  const db = new Database(join(dir, 'data', 'target.db'))
  db.prepare("UPDATE users SET full_name = 'someone else' WHERE user_id = 4242").run()
  db.close()
  const r = await cli(dir, ['users', '--where', 'id <= 20000', '--validate-only'])
  t.is(r.code, 1)
  t.regex(r.stdout, /validation \(checksum\): .*FAILED in 1 chunk\(s\); missing keys -; extra -; differing 4242/)
})
