#!/usr/bin/env node
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
