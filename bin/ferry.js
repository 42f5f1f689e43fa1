#!/usr/bin/env node
// The `ferry` command: ferry is TypeScript run by tsx, registered here for the process.
import { register } from 'tsx/esm/api'

register()
await import('../src/cli/ferry.ts')
