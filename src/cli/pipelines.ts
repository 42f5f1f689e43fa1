import { readdir } from 'node:fs/promises'
import { basename, extname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ConfigError, messageOf } from '../errors.js'
import { isPipeline, type Pipeline } from '../define.js'
import { importTypeScript } from './typescript.js'

export const pipelinesDir = (): string => resolve(process.env.FERRY_PIPELINES ?? 'pipelines')

/** Names of the pipeline files in the pipelines folder. */
export async function listPipelines(): Promise<string[]> {
  const names = await readdir(pipelinesDir()).catch(() => [] as string[])
  return names.filter((n) => n.endsWith('.ts') && !n.endsWith('.d.ts')).map((n) => basename(n, '.ts')).sort()
}

/** Loads `pipelines/<name>.ts` (or a path to a pipeline file) and checks its default export. */
export async function loadPipeline(nameOrPath: string): Promise<{ name: string; pipeline: Pipeline }> {
  const isPath = nameOrPath.includes('/') || extname(nameOrPath) === '.ts'
  const name = isPath ? basename(nameOrPath, extname(nameOrPath)) : nameOrPath
  if (!isPath && !(await listPipelines()).includes(name)) {
    const known = await listPipelines()
    throw new ConfigError(
      `unknown pipeline \`${name}\`; ${known.length ? `available: ${known.join(', ')}` : `no pipelines in ${pipelinesDir()}`}`,
    )
  }
  const file = isPath ? resolve(nameOrPath) : resolve(pipelinesDir(), `${name}.ts`)
  let module: { default?: unknown }
  try {
    module = (/\.[cm]?ts$/.test(file) ? await importTypeScript(file) : await import(pathToFileURL(file).href)) as { default?: unknown }
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'ERR_MODULE_NOT_FOUND' && messageOf(err).includes(file)) {
      throw new ConfigError(`pipeline file \`${file}\` does not exist`)
    }
    throw new ConfigError(`pipeline \`${name}\` (${file}) failed to load: ${messageOf(err)}`, { cause: err })
  }
  if (!isPipeline(module.default)) {
    throw new ConfigError(`\`${file}\` must \`export default definePipeline({ … })\``)
  }
  return { name, pipeline: module.default }
}
