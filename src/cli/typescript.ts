import { existsSync } from 'node:fs'
import { unlink, writeFile } from 'node:fs/promises'
import { basename, dirname, join, relative, resolve as resolvePath } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Message, Plugin } from 'esbuild'
import { literally, removeDeadProcessFiles } from '../dead-files.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const ferrySources = /^(src|sources|sinks|transforms)\/.+\.ts$/
const typeScript = /\.[cm]?tsx?$/

/**
 * Imports a pipeline's own TypeScript file. ferry itself runs as the JavaScript that `npm install`
 * compiles into dist/, so only the pipeline needs compiling: esbuild bundles it and the
 * TypeScript files it imports into one module, written beside it for the moment of its import
 * (so that `import.meta.url` and its packages resolve from its own folder) and removed at once;
 * one a killed run left there is removed by the next run of the same pipeline.
 * Every JavaScript import stays an import, and an import of ferry's sources (`../src/index.js`)
 * is sent to the compiled module in dist/, so the pipeline shares the running CLI's modules.
 * Done in this thread: a loader hook (tsx) would keep a second V8 isolate alive for the whole run,
 * about 28 MB (BENCHMARKS.md, "Memory"). Run from its sources (the tests run ferry under tsx),
 * ferry imports the file as it is.
 */
export async function importTypeScript(file: string): Promise<unknown> {
  if (import.meta.url.endsWith('.ts')) return import(pathToFileURL(file).href)
  const { build, stop } = await import('esbuild')
  const result = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: `node${process.versions.node.split('.')[0]}`,
    packages: 'external',
    sourcemap: 'inline',
    // As tsx compiles (the tests run ferry under it, and ferry used it before): a checkpoint is
    // bound to the transform's source text (`checkpointHash`), so both must print it alike.
    minifyWhitespace: true,
    keepNames: true,
    logLevel: 'silent',
    plugins: [onlyTypeScriptBundled],
  })
    .catch((err: unknown) => {
      throw new Error(compileErrors(err) ?? String(err), { cause: err })
    })
    // esbuild's service process is not needed again in this run.
    .finally(() => void stop())
  const out = join(dirname(file), compiledName(file, process.pid))
  await removeStale(file)
  await writeFile(out, result.outputFiles[0]!.contents)
  try {
    return await import(pathToFileURL(out).href)
  } finally {
    await unlink(out).catch(() => undefined)
  }
}

const compiledName = (file: string, pid: number): string => `.${basename(file)}.ferry-${pid}.mjs`

/** Compiled modules left beside the pipeline by runs killed while importing it (kill -9). */
function removeStale(file: string): Promise<void> {
  return removeDeadProcessFiles(dirname(file), new RegExp(`^${literally(`.${basename(file)}.ferry-`)}(\\d+)\\.mjs$`))
}

/** TypeScript is compiled into the bundle; any other file is imported from where it is, ferry's sources from dist/. */
const onlyTypeScriptBundled: Plugin = {
  name: 'ferry-pipeline',
  setup(b) {
    b.onResolve({ filter: /^\.{0,2}\// }, (args) => {
      if (args.kind === 'entry-point') return undefined
      const path = resolvePath(args.resolveDir, args.path)
      const ts = path.replace(/\.([cm]?)js$/, '.$1ts')
      const inFerry = relative(root, ts)
      if (ferrySources.test(inFerry) && existsSync(ts)) {
        return { path: pathToFileURL(join(root, 'dist', inFerry.replace(/\.ts$/, '.js'))).href, external: true }
      }
      if (typeScript.test(path) || !existsSync(path)) return undefined
      return { path: pathToFileURL(path).href, external: true }
    })
  },
}

/** esbuild's errors as `file:line:column: text`, one a line; undefined when it is no build failure. */
function compileErrors(err: unknown): string | undefined {
  const errors = (err as { errors?: Message[] }).errors
  if (!errors?.length) return undefined
  return errors.map(({ location: at, text }) => (at ? `${resolvePath(at.file)}:${at.line}:${at.column + 1}: ${text}` : text)).join('\n')
}
