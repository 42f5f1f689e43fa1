// The users demo into Elasticsearch and back into SQLite through the CLI, as the README tells it,
// and the dry runs of both directions.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { ensureLegacyUsers, legacyUsers } from '../src/demo.js'
import { esClient, esUrl, indexPrefix, requireElasticsearch } from './elasticsearch.js'
import { ferryIndex, runCli } from './engines.js'
import { query, tempDir } from './helpers.js'

const repoPipelines = join(import.meta.dirname, '..', 'pipelines')
const prefix = indexPrefix('cli')
// The demo's index is `users`; these pipelines, the demo's own with another index, keep it apart.
const index = `${prefix}_users`
const pipelines = tempDir()
mkdirSync(pipelines, { recursive: true })
for (const [name, table] of [['users', 'targetTable'], ['users-back', 'sourceTable']]) {
  writeFileSync(
    join(pipelines, `${name}.ts`),
    `import { definePipeline } from ${JSON.stringify(ferryIndex)}\nimport demo from ${JSON.stringify(join(repoPipelines, `${name}.ts`))}\nexport default definePipeline({ ...demo.settings, ${table}: ${JSON.stringify(index)} })\n`,
  )
}

if (await requireElasticsearch(prefix)) {
  const legacy = ensureLegacyUsers(join(tempDir(), 'legacy.db'), 5000)
  const env = (more: Record<string, string>) => ({ FERRY_PIPELINES: pipelines, ...more })
  const client = esClient()
  test.after.always(() => client.close())

  test.serial('a dry run into Elasticsearch shows the field type of each column and creates nothing', async (t) => {
    const dir = tempDir()
    const r = await runCli(dir, ['users', '--dry-run'], env({ SOURCE_URL: legacy, TARGET_URL: esUrl }))
    t.is(r.code, 0, r.stdout + r.stderr)
    const out = r.stdout + r.stderr
    t.regex(out, /key: id \(primary key\) → user_id/)
    t.regex(out, /user_id\s+INTEGER → long/)
    t.regex(out, /registration_date\s+\S+ → date/)
    t.regex(out, /full_name\s+.+ → text \(\+ keyword\)/)
    t.regex(out, /dry run: nothing was written/)
    t.false((await client.indices.exists({ index })) as boolean)
  })

  test.serial('the users demo lands every row in Elasticsearch, and comes back into SQLite passing checksum validation', async (t) => {
    const dir = tempDir()
    const there = await runCli(dir, ['users'], env({ SOURCE_URL: legacy, TARGET_URL: esUrl }))
    t.is(there.code, 0, there.stdout + there.stderr)
    t.regex(there.stdout + there.stderr, /validation \(checksum\): source 5000, expected 5000, target 5000: passed/)
    t.is((await client.count({ index })).count, 5000, 'searchable at once: the load refreshed the index when it ended')

    const back = `sqlite:${join(dir, 'back.db')}`
    const dry = await runCli(dir, ['users-back', '--dry-run'], env({ SOURCE_URL: esUrl, TARGET_URL: back }))
    t.is(dry.code, 0, dry.stdout + dry.stderr)
    t.regex(dry.stdout + dry.stderr, /key: user_id \(primary key\) → user_id/)
    t.false(existsSync(join(dir, 'back.db')), 'the dry run wrote nothing')

    const home = await runCli(dir, ['users-back'], env({ SOURCE_URL: esUrl, TARGET_URL: back }))
    t.is(home.code, 0, home.stdout + home.stderr)
    t.regex(home.stdout + home.stderr, /validation \(checksum\): source 5000, expected 5000, target 5000: passed/)
    const [user] = legacyUsers(1)
    const rows = query(join(dir, 'back.db'), 'SELECT user_id, full_name, email_address, registration_date, is_active FROM users WHERE user_id = 1')
    t.deepEqual(rows, [
      {
        user_id: 1,
        full_name: `${user!.first_name.trim()} ${user!.last_name.trim()}`,
        email_address: user!.email.toLowerCase(),
        registration_date: user!.created_at,
        is_active: user!.status === 'active' ? 1 : 0,
      },
    ])
  })

  test('an http:// URL is refused with the scheme that names Elasticsearch', async (t) => {
    const r = await runCli(tempDir(), ['users', '--dry-run'], env({ SOURCE_URL: legacy, TARGET_URL: 'http://127.0.0.1:9200' }))
    t.is(r.code, 2)
    t.regex(r.stdout + r.stderr, /setting `target`: expected a URL whose scheme is one of .*elasticsearch.* \(an Elasticsearch node is elasticsearch:\/\/host:9200/)
  })
}
