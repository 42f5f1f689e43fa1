// Issue 16: Sakila, a schema someone else wrote (samples/sakila, New BSD), copied MySQL →
// PostgreSQL and SQLite → PostgreSQL with `ferry copy`, as a user would.
import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import test from 'ava'
import { loadMysql, loadSqlite } from '../samples/sakila/generate.js'
import type { Report } from '../src/report.js'
import { catalogOf, comparableTarget, shapeOf } from './catalog-shape.js'
import { tempDir } from './helpers.js'
import { testDb } from './kill-helpers.js'
import { dropNamespaces, requireServers } from './servers.js'

const repo = resolve(import.meta.dirname, '..')
const servers = await requireServers('postgres', 'mysql')
test.after.always(dropNamespaces)

function copy(cwd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(repo, 'bin', 'ferry.js'), 'copy', ...args], { cwd })
    let output = ''
    child.stdout.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr.on('data', (d: Buffer) => (output += d.toString()))
    child.on('error', fail)
    child.on('exit', (code) => done({ code, output }))
  })
}

const tables = ['actor', 'address', 'category', 'city', 'country', 'customer', 'film', 'film_actor', 'film_category', 'film_text', 'inventory', 'language', 'payment', 'rental', 'staff', 'store']

if (servers) {
  test('Sakila MySQL → PostgreSQL with ferry copy: every table, row, key, index and foreign key; what is not copied is named', async (t) => {
    const dir = tempDir()
    const source = await testDb('mysql', dir, 'sakila_src')
    const target = await testDb('postgres', dir, 'sakila_tgt')
    await loadMysql(source.url, 0.1)
    const run = await copy(dir, [source.url, target.url, '--spatial', 'text', '--validate', 'checksum'])
    t.is(run.code, 0, run.output)
    const report = JSON.parse(readFileSync(join(dir, 'reports', readdirSync(join(dir, 'reports')).find((f) => f.endsWith('.json'))!), 'utf8')) as Report
    t.deepEqual(report.tables.map((r) => r.targetTable).sort(), tables)
    t.true(report.tables.every((r) => r.status === 'SUCCESS' && r.validation?.passed === true))
    const skipped = report.database!.skipped.map((k) => `${k.kind} ${k.name}`)
    for (const k of ['view customer_list', 'view sales_by_store', 'trigger customer.customer_create_date', 'function inventory_in_stock', 'index film_text.idx_title_description', 'index address.idx_location', 'on update actor.last_update']) {
      t.true(skipped.includes(k), `${k} is reported as not copied: ${skipped.join(', ')}`)
    }
    const [want, got] = await Promise.all([catalogOf(source.url), catalogOf(target.url)])
    const wantShape = shapeOf(want)
    const gotShape = comparableTarget(wantShape, shapeOf(got), false)
    for (const name of tables) {
      t.deepEqual(gotShape[name]!.foreignKeys, wantShape[name]!.foreignKeys, name)
      t.deepEqual(gotShape[name]!.primaryKey, wantShape[name]!.primaryKey, name)
      t.deepEqual(gotShape[name]!.identity, wantShape[name]!.identity, name)
    }
    t.deepEqual(gotShape.film!.allowed, { rating: "'G', 'PG', 'PG-13', 'R', 'NC-17'" }, 'ENUM → a PostgreSQL enum type')
    t.regex(String((await target.sql('SELECT location FROM address WHERE address_id = 2'))[0]!.location), /^POINT\(0\.37 0\.11\)$/)
    t.is(Number((await target.sql(`INSERT INTO actor (first_name, last_name) VALUES ('A', 'B') RETURNING actor_id`))[0]!.actor_id), 201)
  })

  test('Sakila SQLite → PostgreSQL with ferry copy, names folded to lower case', async (t) => {
    const dir = tempDir()
    loadSqlite(join(dir, 'sakila.db'), 0.1)
    const target = await testDb('postgres', dir, 'sakila_lite')
    const run = await copy(dir, [`sqlite:${join(dir, 'sakila.db')}`, target.url, '--identifier-case', 'lower', '--validate', 'checksum'])
    t.is(run.code, 0, run.output)
    const want = shapeOf(await catalogOf(`sqlite:${join(dir, 'sakila.db')}`))
    const got = comparableTarget(want, shapeOf(await catalogOf(target.url)), false)
    t.deepEqual(Object.keys(got).sort(), tables)
    t.deepEqual(got, want)
  })
}
