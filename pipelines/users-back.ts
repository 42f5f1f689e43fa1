import { definePipeline } from '../src/index.js'

const source = process.env.SOURCE_URL ?? 'sqlite:data/target.db'

/**
 * The users `npm run pipeline users` migrated, read back from wherever they went (SOURCE_URL) into
 * a SQLite file of their own, every row compared by checksum:
 *
 *   TARGET_URL=redis://127.0.0.1:6379/0 npm run pipeline users
 *   SOURCE_URL=redis://127.0.0.1:6379/0 npm run pipeline users-back
 */
export default definePipeline({
  source,
  target: process.env.TARGET_URL ?? 'sqlite:data/users-back.db',
  sourceTable: /^rediss?:/.test(source) ? 'user:{user_id}' : 'users',
  targetTable: 'users',
  writeMode: 'recreate',
  validate: 'checksum',
})
