import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { ensureLegacyUsers } from '../src/demo.js'
import { runPipeline } from '../src/run.js'
import users from '../pipelines/users.js'
import { query, tempDir, testSettings } from './helpers.js'
import type { Report } from '../src/report.js'

function usersSettings(dir: string) {
  return testSettings(
    dir,
    {
      ...users.settings,
      source: ensureLegacyUsers(join(dir, 'legacy.db'), 5000),
      target: `sqlite:${join(dir, 'target.db')}`,
      chunkSize: 1000,
    } as never,
    'users',
  )
}

test('the users pipeline migrates every row with the transform applied', async (t) => {
  const dir = tempDir()
  const result = await runPipeline(usersSettings(dir))
  t.is(result.status, 'SUCCESS', result.error?.message)
  t.is(result.stats.total, 5000)
  t.is(result.stats.migrated, 5000)
  const [count] = query<{ n: number }>(join(dir, 'target.db'), 'SELECT COUNT(*) AS n FROM users')
  t.is(count!.n, 5000)

  const source = query<Record<string, string | number>>(join(dir, 'legacy.db'), 'SELECT * FROM users ORDER BY id')
  const target = query<Record<string, string | number>>(join(dir, 'target.db'), 'SELECT * FROM users ORDER BY user_id')
  for (const [i, s] of source.entries()) {
    const row = target[i]!
    t.is(row.user_id, s.id)
    t.is(row.full_name, `${String(s.first_name).trim()} ${String(s.last_name).trim()}`)
    t.is(row.email_address, String(s.email).toLowerCase())
    t.is(row.registration_date, s.created_at)
    t.is(row.is_active, s.status === 'active' ? 1 : 0)
    t.regex(String(row.migrated_at), /^\d{4}-\d\d-\d\dT/)
  }
  t.true(source.some((s) => s.first_name !== String(s.first_name).trim()), 'the demo has names to trim')

  const report = JSON.parse(readFileSync(result.reportFile, 'utf8')) as Report
  t.is(report.summary.status, 'SUCCESS')
  t.true(existsSync(result.logFile))
})

test('a second run succeeds without duplicating rows', async (t) => {
  const dir = tempDir()
  const settings = usersSettings(dir)
  t.is((await runPipeline(settings)).status, 'SUCCESS')
  const second = await runPipeline(settings)
  t.is(second.status, 'SUCCESS', second.error?.message)
  const [row] = query<{ n: number; d: number }>(join(dir, 'target.db'), 'SELECT COUNT(*) AS n, COUNT(DISTINCT user_id) AS d FROM users')
  t.deepEqual(row, { n: 5000, d: 5000 })
})

for (const writeMode of ['recreate', 'truncate', 'insert'] as const) {
  test(`write mode ${writeMode} prepares the target as it says`, async (t) => {
    const dir = tempDir()
    const settings = { ...usersSettings(dir), writeMode }
    t.is((await runPipeline(settings)).status, 'SUCCESS')
    const second = await runPipeline(settings)
    const [row] = query<{ n: number }>(join(dir, 'target.db'), 'SELECT COUNT(*) AS n FROM users')
    if (writeMode === 'insert') {
      // Plain inserts of keys already there are rows the target rejects: the run stops naming one.
      t.is(second.status, 'FAILED')
      t.regex(second.error!.message, /rejected the row with key 1\b/)
    } else {
      t.is(second.status, 'SUCCESS', second.error?.message)
    }
    t.is(row!.n, 5000)
  })
}
