import { resolve } from 'node:path'
import test from 'ava'
import { parseCircular, parseDependencyTree } from 'dpdm'

const repo = resolve(import.meta.dirname, '..')

test('the code has no import cycles, counting type imports and the registry’s lazy imports', async (t) => {
  const tree = await parseDependencyTree(['src/**/*.ts', 'sources/**/*.ts', 'sinks/**/*.ts', 'transforms/**/*.ts'], {
    context: repo,
    tsconfig: resolve(repo, 'tsconfig.json'),
    transform: false,
  })
  t.true(Object.keys(tree).length > 40, 'the tree holds the project’s files')
  t.deepEqual(parseCircular(tree), [])
})
