#!/usr/bin/env -S node --max-semi-space-size=4 --heap-growing-percent=50
// The node flags hold memory down (a 4 MiB young generation, an old one grown by half, not doubled, when
// full); package.json's scripts run node with the same flags, BENCHMARKS.md "Memory" measures them.
// The `ferry` command: the JavaScript that `npm install` compiles into dist/ (the prepare script).
// Only a pipeline's own .ts file goes through a TypeScript loader (src/cli/typescript.ts).
const entry = new URL('../dist/src/cli/ferry.js', import.meta.url)
try {
  await import(entry.href)
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !String(err.message).includes(entry.pathname)) throw err
  console.error('ferry is not compiled (dist/ is missing): run `npm install`, or `npm run build`')
  process.exit(2)
}
