import { register } from 'node:module'

let registered: Promise<void> | undefined

/**
 * Lets `import()` load a pipeline's own TypeScript file. ferry itself runs as the JavaScript that
 * `npm install` compiles into dist/, so tsx is registered only now, when a `.ts` pipeline is loaded;
 * and the pipeline's imports of ferry's sources (`../src/index.js`) are sent to the compiled
 * modules (ts-imports.ts), so that it shares them with the running CLI instead of compiling a
 * second copy. Run from its sources (the tests run ferry under tsx), ferry needs neither.
 */
export function loadTypeScript(): Promise<void> {
  if (import.meta.url.endsWith('.ts')) return Promise.resolve()
  registered ??= (async () => {
    const tsx = await import('tsx/esm/api')
    tsx.register()
    // Registered after tsx, so it runs first and sees what tsx resolves to.
    register('./ts-imports.js', import.meta.url)
  })()
  return registered
}
