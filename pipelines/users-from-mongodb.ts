import { definePipeline } from '../src/index.js'
import { rename } from '../transforms/compose.js'

/**
 * The users demo back out of MongoDB into SQLite. First put it there:
 *
 *   TARGET_URL=mongodb://127.0.0.1:27017/demo npm run pipeline users
 *   npm run pipeline users-from-mongodb        # SOURCE_URL / TARGET_URL point it elsewhere
 *
 * The users pipeline keyed the documents on `user_id`, which MongoDB keeps as `_id`: the transform
 * names it `user_id` again.
 */
export default definePipeline({
  source: process.env.SOURCE_URL ?? 'mongodb://127.0.0.1:27017/demo',
  target: process.env.TARGET_URL ?? 'sqlite:data/users-from-mongodb.db',
  sourceTable: 'users',
  targetTable: 'users',
  targetKey: 'user_id',
  strategy: 'chunked',
  chunkSize: 25_000,
  writeMode: 'upsert',
  validate: 'checksum',
  transform: rename({ _id: 'user_id' }),
})
