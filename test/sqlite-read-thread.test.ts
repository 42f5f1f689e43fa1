import { execFile } from 'node:child_process'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import test from 'ava'
import Database from 'better-sqlite3'
import { SqliteConnection } from '../src/engines/sqlite.js'
import type { Row } from '../src/types.js'
import { itemsDb, range, tempDir } from './helpers.js'

// Issue 15, item 6: a SQLite source reads its rows on a thread of its own (sqlite-read-thread.ts),
// so that reading overlaps the sink's writes.

async function source(file: string): Promise<SqliteConnection> {
  const connection = new SqliteConnection(file, { writable: false })
  await connection.open()
  return connection
}

async function all(pages: AsyncIterable<Row[]>): Promise<Row[][]> {
  const out: Row[][] = []
  for await (const page of pages) out.push(page)
  return out
}

test('rows read on the thread come in pages of the asked size, with every value as the main thread reads it: bigint, real, text, BLOB as Buffer, NULL', async (t) => {
  const file = join(tempDir(), 'values.db')
  const db = new Database(file)
  db.exec('CREATE TABLE v (id INTEGER PRIMARY KEY, big INTEGER, r REAL, s TEXT, b BLOB, n TEXT)')
  const insert = db.prepare('INSERT INTO v VALUES (?, ?, ?, ?, ?, ?)')
  for (let i = 1; i <= 5; i++) insert.run(i, 9007199254740993n + BigInt(i), i / 3, `s${i} ’`, Buffer.from([0, i, 255]), null)
  db.close()
  const connection = await source(file)
  t.teardown(() => connection.close())
  const pages = await all(connection.cursor!('SELECT * FROM v WHERE id > ? ORDER BY id', [1n], () => 2))
  t.deepEqual(pages.map((p) => p.length), [2, 2])
  const direct = await connection.query('SELECT * FROM v WHERE id > ? ORDER BY id', [1n])
  t.deepEqual(pages.flat(), direct)
  t.true(Buffer.isBuffer(pages[0]![0]!.b))
})

test('a binary key parameter crosses to the thread and binds as a BLOB', async (t) => {
  const file = join(tempDir(), 'blobkey.db')
  const db = new Database(file)
  db.exec('CREATE TABLE k (id BLOB PRIMARY KEY, x INTEGER)')
  for (let i = 0; i < 4; i++) db.prepare('INSERT INTO k VALUES (?, ?)').run(Buffer.from([i]), i)
  db.close()
  const connection = await source(file)
  t.teardown(() => connection.close())
  const pages = await all(connection.cursor!('SELECT x FROM k WHERE id > ? ORDER BY id', [Buffer.from([1])], () => 10))
  t.deepEqual(pages.flat(), [{ x: 2n }, { x: 3n }])
})

test('a read left after its first page is closed on the thread, and the next read on the connection starts afresh', async (t) => {
  const file = join(tempDir(), 'items.db')
  itemsDb(file, range(1, 100))
  const connection = await source(file)
  t.teardown(() => connection.close())
  for await (const page of connection.cursor!('SELECT id FROM items ORDER BY id', [], () => 10)) {
    t.is(page.length, 10)
    break
  }
  const again = await all(connection.cursor!('SELECT id FROM items WHERE id > ? ORDER BY id', [95n], () => 10))
  t.deepEqual(again.flat().map((r) => r.id), [96n, 97n, 98n, 99n, 100n])
})

test('a failing read names SQLite\'s error and keeps its code (the source classifies it)', async (t) => {
  const file = join(tempDir(), 'items.db')
  itemsDb(file, range(1, 3))
  const connection = await source(file)
  t.teardown(() => connection.close())
  const err = await t.throwsAsync(all(connection.cursor!('SELECT * FROM nope', [], () => 10)))
  t.regex(err!.message, /no such table: nope/)
  t.is((err as { code?: string }).code, 'SQLITE_ERROR')
})

test('two source connections to one file share one read thread, and it ends when the last closes: the process exits on its own', async (t) => {
  const file = join(tempDir(), 'items.db')
  itemsDb(file, range(1, 50))
  const script = `
    import { SqliteConnection } from ${JSON.stringify(resolve('src/engines/sqlite.ts'))}
    const file = ${JSON.stringify(file)}
    const [a, b] = [new SqliteConnection(file, { writable: false }), new SqliteConnection(file, { writable: false })]
    await a.open(); await b.open()
    let n = 0
    for await (const page of a.cursor('SELECT id FROM items ORDER BY id', [], () => 7)) n += page.length
    for await (const page of b.cursor('SELECT id FROM items ORDER BY id', [], () => 50)) n += page.length
    await a.close()
    for await (const page of b.cursor('SELECT id FROM items WHERE id > 40', [], () => 50)) n += page.length
    await b.close()
    console.log(n)
  `
  const { stdout } = await promisify(execFile)(process.execPath, ['--import=tsx', '--input-type=module', '-e', script], { timeout: 30_000 })
  t.is(stdout.trim(), '110')
})
