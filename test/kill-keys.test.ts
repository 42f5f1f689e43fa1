import test, { type ExecutionContext } from 'ava'
import { tempDir } from './helpers.js'
import { type Engine, finalStatus, type Kill, killAndResume, runChild, type TestDb, testDb } from './kill-helpers.js'
import { dropNamespaces, requireServers } from './servers.js'

// Crash points that fall mid-run: halfway through the 9th batch write of the first run, halfway
// through the 5th checkpoint write of the resumed one. Every run is in `insert` mode, where a row
// written twice is a duplicate-key failure, not a silent upsert.
const kills: readonly Kill[] = [{ fault: 'sink-write:9' }, { fault: 'checkpoint-write:5' }]
const small = { BATCH_SIZE: '500', CHUNK_SIZE: '3000', CHECKPOINT_INTERVAL: '2000' }
const rows = 16_000

/** `INSERT INTO table <select>`, where the select reads `n` from 0 to rows - 1 `FROM s`. */
function insertSeries(db: TestDb, table: string, select: string): string {
  if (db.engine === 'postgres') return `INSERT INTO ${table} ${select.replace('FROM s', `FROM generate_series(0, ${rows - 1}) s(n)`)}`
  // MariaDB's sequence engine: recursive CTEs stop at max_recursive_iterations (1000).
  if (db.engine === 'mysql') return `INSERT INTO ${table} ${select.replace('FROM s', `FROM (SELECT seq AS n FROM seq_0_to_${rows - 1}) s`)}`
  return `INSERT INTO ${table} WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < ${rows - 1}) ${select}`
}

const div = (db: TestDb, a: string, b: number) => (db.engine === 'mysql' ? `${a} DIV ${b}` : `${a} / ${b}`)

const text = (db: TestDb) => (db.engine === 'mysql' ? 'VARCHAR(40)' : 'TEXT')
const concat = (db: TestDb, a: string, b: string) => (db.engine === 'mysql' ? `CONCAT(${a}, ${b})` : `${a} || ${b}`)

async function counts(db: TestDb, table: string, key: string): Promise<{ n: number; distinct: number; upper: number }> {
  const [row] = await db.sql(
    `SELECT (SELECT COUNT(*) FROM ${table}) AS n, (SELECT COUNT(*) FROM (SELECT DISTINCT ${key} FROM ${table}) d) AS d, ` +
      `(SELECT SUM(CASE WHEN name = UPPER(name) THEN 1 ELSE 0 END) FROM ${table}) AS u`,
  )
  return { n: Number(row?.n), distinct: Number(row?.d), upper: Number(row?.u) }
}

/** Kills a run twice at crash points, resumes, and checks the target row for row. */
async function killedRunIsExact(
  t: ExecutionContext,
  dir: string,
  env: Record<string, string>,
  target: TestDb,
  targetTable: string,
  key: string,
): Promise<void> {
  const last = await killAndResume(t, { ...small, ...env, WORK_DIR: dir }, kills)
  t.regex(last.output, new RegExp(`validation \\(checksum\\): source ${rows}, expected ${rows}, target ${rows}: passed`))
  t.deepEqual(await counts(target, targetTable, key), { n: rows, distinct: rows, upper: rows })
  t.is(finalStatus(t, dir), 'SUCCESS')
}

const engines = (await requireServers('postgres', 'mysql')) ? (['sqlite', 'postgres', 'mysql'] as const) : (['sqlite'] as const)
test.after.always(dropNamespaces)

for (const engine of engines) {
  for (const strategy of ['streaming', 'chunked', 'parallel'] as const) {
    test(`${engine} → ${engine}, ${strategy}: a composite key (order_id, line) moves exactly through two kill -9 and a resume`, async (t) => {
      const dir = tempDir()
      const db = await testDb(engine, dir, `composite_${strategy}`)
      await db.sql(
        `CREATE TABLE order_lines (order_id INT NOT NULL, line INT NOT NULL, name ${text(db)} NOT NULL, qty INT, PRIMARY KEY (order_id, line))`,
        // Eight lines per order, numbered with gaps: partitions end in the middle of orders.
        insertSeries(db, 'order_lines', `SELECT ${div(db, 'n', 8)} + 1, (n % 8) * 3 + 1, ${concat(db, "'line '", 'n')}, n % 100 FROM s`),
      )
      const env = { SOURCE_URL: db.url, TARGET_URL: db.url, SOURCE_TABLE: 'order_lines', TARGET_TABLE: 'order_lines_copy', STRATEGY: strategy }
      await killedRunIsExact(t, dir, env, db, 'order_lines_copy', 'order_id, line')
    })
  }
}

if (engines.length === 3) {
  const binary: [Engine, string, Engine][] = [
    ['postgres', `CREATE TABLE items (id bytea PRIMARY KEY, name text NOT NULL, qty int)`, 'sqlite'],
    ['sqlite', `CREATE TABLE items (id BLOB PRIMARY KEY, name TEXT NOT NULL, qty INT)`, 'mysql'],
    ['mysql', `CREATE TABLE items (id BINARY(16) PRIMARY KEY, name VARCHAR(40) NOT NULL, qty INT)`, 'postgres'],
  ]
  const binaryKey: Record<Engine, string> = {
    postgres: `decode(md5(n::text), 'hex')`,
    // Eight bytes that scatter the rows' order, then eight that make the key unique; zero bytes included.
    sqlite: `unhex(printf('%08x%08x', (n * 2654435761) % 4294967296, n))`,
    mysql: `UNHEX(MD5(n))`,
  }
  for (const [from, create, to] of binary) {
    test(`${from} → ${to}: a binary key moves exactly through two kill -9 and a resume`, async (t) => {
      const dir = tempDir()
      const source = await testDb(from, dir, 'binary_src')
      const target = await testDb(to, dir, 'binary_dst')
      await source.sql(create, insertSeries(source, 'items', `SELECT ${binaryKey[from]}, ${concat(source, "'item '", 'n')}, n % 100 FROM s`))
      const env = { SOURCE_URL: source.url, TARGET_URL: target.url, STRATEGY: 'chunked' }
      await killedRunIsExact(t, dir, env, target, 'items_copy', 'id')
    })
  }

  // Keys that sort differently under a linguistic collation than byte by byte, and that differ
  // only in case or accents: `a7` < `á7` < `A8` < `b1` in en-x-icu; `A8` < `a7` < `b1` < `á7` in bytes.
  const words = `(ARRAY['a','A','á','Á','à','b','B','e','é','E','É','ss','ß','z','Z','æ'])[n % 16 + 1] || (n / 16)::text`
  async function collatedSource(dir: string): Promise<TestDb> {
    const source = await testDb('postgres', dir, 'icu_src')
    await source.sql(
      `CREATE TABLE items (id text COLLATE "en-x-icu" PRIMARY KEY, name text NOT NULL, qty int)`,
      `INSERT INTO items SELECT ${words}, 'item ' || n, n % 100 FROM generate_series(0, ${rows - 1}) n`,
    )
    return source
  }

  for (const to of ['sqlite', 'mysql', 'postgres'] as const) {
    test(`postgres en-x-icu text key → ${to}: a clean run passes checksum validation and keys differing only in case or accents stay distinct`, async (t) => {
      const dir = tempDir()
      const source = await collatedSource(dir)
      const target = await testDb(to, dir, 'icu_dst')
      const run = await runChild({ ...small, SOURCE_URL: source.url, TARGET_URL: target.url, STRATEGY: 'chunked', WORK_DIR: dir })
      t.is(run.code, 0, run.output)
      t.regex(run.output, new RegExp(`validation \\(checksum\\): source ${rows}, expected ${rows}, target ${rows}: passed`))
      t.deepEqual(await counts(target, 'items_copy', 'id'), { n: rows, distinct: rows, upper: rows })
      const [ab] = await target.sql(`SELECT COUNT(*) AS n FROM items_copy WHERE id IN ('a0', 'A0', 'á0', 'Á0', 'à0')`)
      t.is(Number(ab?.n), 5, 'a0, A0, á0, Á0 and à0 are five rows')
    })
  }

  for (const [to, strategy] of [['sqlite', 'chunked'], ['mysql', 'parallel']] as const) {
    test(`postgres en-x-icu text key → ${to}, ${strategy}: a run killed twice in insert mode resumes to an exact target`, async (t) => {
      const dir = tempDir()
      const source = await collatedSource(dir)
      const target = await testDb(to, dir, 'icu_dst')
      await killedRunIsExact(t, dir, { SOURCE_URL: source.url, TARGET_URL: target.url, STRATEGY: strategy }, target, 'items_copy', 'id')
    })
  }
}

test('sqlite: a transform that changes the key value passes validation and resumes exactly after two kill -9', async (t) => {
  const dir = tempDir()
  const db = await testDb('sqlite', dir, 'shift')
  await db.sql(
    'CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INT)',
    insertSeries(db, 'items', `SELECT n * 3 + 1, 'item ' || n, n % 100 FROM s`),
  )
  const env = { SOURCE_URL: db.url, TARGET_URL: db.url, TRANSFORM: 'shift-key', TARGET_KEY: 'item_id', STRATEGY: 'parallel' }
  await killedRunIsExact(t, dir, env, db, 'items_copy', 'item_id')
  const [range] = await db.sql('SELECT MIN(item_id) AS lo, MAX(item_id) AS hi FROM items_copy')
  t.deepEqual(range, { lo: 1_000_001, hi: 1_000_000 + (rows - 1) * 3 + 1 })
})
