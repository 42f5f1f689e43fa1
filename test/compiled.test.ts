import { execFile } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import test from 'ava'
import { itemsDb, query, range, tempDir } from './helpers.js'

// Issue 15: ferry runs as the JavaScript `npm install` compiles into dist/ (`npm test` builds it
// first), on plain node; only a pipeline's own .ts file is compiled, by esbuild in ferry's thread.
const repo = resolve(import.meta.dirname, '..')
const ferry = join(repo, 'bin', 'ferry.js')
const run = promisify(execFile)

test('`ferry --help` runs on plain node from dist/, with no TypeScript loader', async (t) => {
  const started = performance.now()
  const { stdout } = await run(process.execPath, [ferry, '--help'], { cwd: repo })
  t.log(`ferry --help: ${((performance.now() - started) / 1000).toFixed(2)} s`)
  t.regex(stdout, /usage: ferry copy <source-url> <target-url>/)
  // NODE_DEBUG=esm names every module the loader stores: ferry's compiled ones, no tsx.
  const { stderr } = await run(process.execPath, [ferry, '--help'], { cwd: repo, env: { ...process.env, NODE_DEBUG: 'esm' } })
  const stored = stderr.split('\n').filter((l) => l.includes('Storing '))
  t.true(stored.some((l) => l.includes('/dist/src/cli/ferry.js')))
  t.false(stored.some((l) => /tsx|\.ts\b/.test(l)), stored.filter((l) => /tsx|\.ts\b/.test(l)).join('\n'))
})

test('a .ts pipeline runs under plain node with no loader thread, its imports of ferry’s sources served by the compiled modules in dist/; compiled modules left by killed runs are removed', async (t) => {
  const dir = tempDir()
  const env = {
    ...process.env,
    SOURCE_URL: itemsDb(join(dir, 'source.db'), range(1, 500)),
    TARGET_URL: `sqlite:${join(dir, 'target.db')}`,
    RESOLVED_FILE: join(dir, 'resolved.txt'),
    WORK_DIR: dir,
    NODE_DEBUG: 'esm',
  }
  // Left by a run killed while importing (no process has a pid above the kernel's pid_max).
  const stale = join(repo, 'test', 'fixtures', '.compiled-pipeline.ts.ferry-99999999.mjs')
  writeFileSync(stale, 'throw new Error("stale")\n')
  const { stdout, stderr } = await run(process.execPath, [ferry, join(repo, 'test', 'fixtures', 'compiled-pipeline.ts')], { cwd: dir, env })
  t.regex(stdout + stderr, /SUCCESS: 500 migrated/)
  t.is(readFileSync(join(dir, 'resolved.txt'), 'utf8'), 'true')
  t.false(/tsx/.test(stderr), 'no module of tsx is loaded')
  t.deepEqual(readdirSync(join(repo, 'test', 'fixtures')).filter((f) => f.includes('.ferry-')), [], 'the compiled module is removed once imported, and one a killed run left is removed too')
  t.deepEqual(query(join(dir, 'target.db'), "SELECT count(*) AS n FROM items WHERE name = upper(name)"), [{ n: 500 }])
})

test('a .ts pipeline that does not compile is refused naming its file, line and the error, exit 2', async (t) => {
  const dir = tempDir()
  const file = join(dir, 'broken.ts')
  writeFileSync(file, "import { definePipeline } from '../src/index.js'\nexport default definePipeline({ source: 'sqlite:a.db', target: 'sqlite:b.db', sourceTable: 'items', })))\n")
  const err = await run(process.execPath, [ferry, file], { cwd: dir }).then(() => undefined, (e: { code: number; stderr: string; stdout: string }) => e)
  t.is(err?.code, 2)
  t.regex(`${err?.stdout}${err?.stderr}`, /pipeline `broken` \(.*broken\.ts\) failed to load: .*broken\.ts:2:\d+: .*Expected/)
})
