// The users demo into MongoDB and back into SQLite through the CLI, as the README tells it, and the
// dry run of both directions (on FerretDB).
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { ensureLegacyUsers, legacyUsers } from '../src/demo.js'
import { runCli } from './engines.js'
import { query, tempDir } from './helpers.js'
import { mongoScratch } from './mongodb.js'
import { dropNamespaces, requireServers } from './servers.js'

const pipelines = join(import.meta.dirname, '..', 'pipelines')

if (await requireServers('mongodb')) {
  const scratch = await mongoScratch('cli')
  test.after.always(dropNamespaces)
  const legacyDir = tempDir()
  const legacy = ensureLegacyUsers(join(legacyDir, 'legacy.db'), 5000)
  const env = (more: Record<string, string>) => ({ FERRY_PIPELINES: pipelines, ...more })

  test.serial('a dry run into MongoDB shows the BSON type of each field and creates nothing', async (t) => {
    const dir = tempDir()
    const r = await runCli(dir, ['users', '--dry-run'], env({ SOURCE_URL: legacy, TARGET_URL: scratch.url }))
    t.is(r.code, 0, r.stderr)
    const out = r.stdout + r.stderr
    t.regex(out, /key: id \(primary key\) → user_id/)
    t.regex(out, /user_id\s+INTEGER → long/)
    t.regex(out, /registration_date\s+\S+ → date/)
    t.regex(out, /dry run: nothing was written/)
    t.deepEqual(await scratch.db((db) => db.listCollections().toArray()), [])
  })

  test.serial('the users demo lands every row in MongoDB, and comes back into SQLite passing checksum validation', async (t) => {
    const dir = tempDir()
    const there = await runCli(dir, ['users'], env({ SOURCE_URL: legacy, TARGET_URL: scratch.url }))
    t.is(there.code, 0, there.stdout + there.stderr)
    t.regex(there.stdout + there.stderr, /validation \(checksum\): source 5000, expected 5000, target 5000: passed/)

    const dry = await runCli(dir, ['users-back', '--dry-run'], env({ SOURCE_URL: scratch.url, TARGET_URL: `sqlite:${join(dir, 'back.db')}` }))
    t.is(dry.code, 0, dry.stderr)
    t.regex(dry.stdout + dry.stderr, /key: _id \(primary key\) → user_id/)
    t.regex(dry.stdout + dry.stderr, /user_id\s+long → INTEGER/)
    t.regex(dry.stdout + dry.stderr, /registration_date\s+date → TIMESTAMPTZ/)
    t.false(existsSync(join(dir, 'back.db')), 'the dry run wrote nothing')

    const back = await runCli(dir, ['users-back'], env({ SOURCE_URL: scratch.url, TARGET_URL: `sqlite:${join(dir, 'back.db')}` }))
    t.is(back.code, 0, back.stdout + back.stderr)
    t.regex(back.stdout + back.stderr, /validation \(checksum\): source 5000, expected 5000, target 5000: passed/)
    const [user] = legacyUsers(1)
    const rows = query(join(dir, 'back.db'), 'SELECT user_id, full_name, email_address, registration_date, is_active FROM users WHERE user_id = 1')
    t.deepEqual(rows, [
      {
        user_id: 1,
        full_name: `${user!.first_name.trim()} ${user!.last_name.trim()}`,
        email_address: user!.email.toLowerCase(),
        registration_date: `${user!.created_at.replace(' ', 'T')}Z`,
        is_active: user!.status === 'active' ? 1 : 0,
      },
    ])
  })
}
