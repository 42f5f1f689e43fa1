// The users demo into Cassandra and back into SQLite through the CLI, as the README tells it, and
// the dry run of both directions, which creates nothing (not even the keyspace it may create).
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { ensureLegacyUsers, legacyUsers } from '../src/demo.js'
import { cassandraUrl, cql, dropAfter, requireCassandra } from './cassandra.js'
import { runCli } from './engines.js'
import { query, tempDir } from './helpers.js'

const pipelines = join(import.meta.dirname, '..', 'pipelines')

if (await requireCassandra()) {
  // A keyspace the demo creates (replicationFactor), dropped after.
  const keyspace = `ferry_cli_${process.pid.toString(36)}_${Date.now().toString(36)}`
  dropAfter(keyspace)
  const target = cassandraUrl(keyspace, '&replicationFactor=1')
  const legacyDir = tempDir()
  const legacy = ensureLegacyUsers(join(legacyDir, 'legacy.db'), 5000)
  const env = (more: Record<string, string>) => ({ FERRY_PIPELINES: pipelines, ...more })
  const out = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr

  test.serial('a dry run into Cassandra shows the CQL type of each column and creates nothing', async (t) => {
    const r = await runCli(tempDir(), ['users', '--dry-run'], env({ SOURCE_URL: legacy, TARGET_URL: target }))
    t.is(r.code, 0, out(r))
    t.regex(out(r), /key: id \(primary key\) → user_id/)
    t.regex(out(r), /target: create/)
    t.regex(out(r), /user_id\s+INTEGER → bigint/)
    t.regex(out(r), /registration_date\s+\S+ → timestamp/)
    t.regex(out(r), /dry run: nothing was written/)
    t.deepEqual(await cql('SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?', [keyspace]), [])
  })

  test.serial('the users demo lands every row in Cassandra, and comes back into SQLite passing checksum validation', async (t) => {
    const dir = tempDir()
    const there = await runCli(dir, ['users'], env({ SOURCE_URL: legacy, TARGET_URL: target }))
    t.is(there.code, 0, out(there))
    t.regex(out(there), /validation \(checksum\): source 5000, expected 5000, target 5000: passed/)
    t.is((await cql(`SELECT count(*) AS n FROM ${keyspace}.users`))[0]!.n, 5000n)

    const back = join(dir, 'back.db')
    const dry = await runCli(dir, ['users-back', '--dry-run'], env({ SOURCE_URL: cassandraUrl(keyspace), TARGET_URL: `sqlite:${back}` }))
    t.is(dry.code, 0, out(dry))
    t.regex(out(dry), /key: user_id \(primary key\) → user_id/)
    t.regex(out(dry), /strategy: parallel, \d+ chunk\(s\), \d worker\(s\)/)
    t.regex(out(dry), /registration_date\s+timestamp → TIMESTAMP/)
    t.false(existsSync(back), 'the dry run wrote nothing')

    const home = await runCli(dir, ['users-back'], env({ SOURCE_URL: cassandraUrl(keyspace), TARGET_URL: `sqlite:${back}` }))
    t.is(home.code, 0, out(home))
    t.regex(out(home), /validation \(checksum\): source 5000, expected 5000, target 5000: passed/)
    const [user] = legacyUsers(1)
    t.deepEqual(query(back, 'SELECT user_id, full_name, email_address, registration_date, is_active FROM users WHERE user_id = 1'), [
      {
        user_id: 1,
        full_name: `${user!.first_name.trim()} ${user!.last_name.trim()}`,
        email_address: user!.email.toLowerCase(),
        registration_date: user!.created_at,
        is_active: user!.status === 'active' ? 1 : 0,
      },
    ])
    // The columns in the order the demo made them, not Cassandra's (which lists them by name).
    t.deepEqual(query<{ name: string }>(back, "SELECT name FROM pragma_table_info('users')").map((c) => c.name), ['user_id', 'full_name', 'email_address', 'registration_date', 'is_active', 'migrated_at'])
  })
}
