// Module resolve hook (node:module `register`), run in the loader thread; see typescript.ts.

const root = new URL('../../../', import.meta.url)
const dist = new URL('dist/', root)
const compiled = /^(src|sources|sinks|transforms)\/.+\.ts$/

interface Resolved {
  readonly url: string
  readonly format?: string | null
}

/** An import that resolves to one of ferry's TypeScript sources gets its compiled module in dist/ instead. */
export async function resolve(
  specifier: string,
  context: unknown,
  next: (specifier: string, context: unknown) => Promise<Resolved>,
): Promise<Resolved> {
  const resolved = await next(specifier, context)
  if (!resolved.url.startsWith(root.href) || resolved.url.startsWith(dist.href)) return resolved
  const path = resolved.url.slice(root.href.length)
  if (!compiled.test(path)) return resolved
  return { ...resolved, url: `${dist.href}${path.slice(0, -3)}.js`, format: 'module' }
}
