import { definePipeline } from '../src/index.js'
import { rename } from '../transforms/compose.js'

const source = process.env.SOURCE_URL ?? 'sqlite:data/target.db'
const redis = /^rediss?:/.test(source)
const mongodb = /^mongodb(\+srv)?:/.test(source)
const cassandra = /^cassandra:/.test(source)

/**
 * The users `npm run pipeline users` migrated, read back from wherever they went (SOURCE_URL) into
 * a SQLite file of their own, every row compared by checksum:
 *
 *   TARGET_URL=redis://127.0.0.1:6379/0 npm run pipeline users
 *   SOURCE_URL=redis://127.0.0.1:6379/0 npm run pipeline users-back
 *
 *   TARGET_URL=mongodb://127.0.0.1:27017/demo npm run pipeline users
 *   SOURCE_URL=mongodb://127.0.0.1:27017/demo npm run pipeline users-back
 *
 *   TARGET_URL=elasticsearch://127.0.0.1:9200 npm run pipeline users
 *   SOURCE_URL=elasticsearch://127.0.0.1:9200 npm run pipeline users-back
 *
 *   TARGET_URL='cassandra://127.0.0.1:9042/demo?replicationFactor=1' npm run pipeline users
 *   SOURCE_URL=cassandra://127.0.0.1:9042/demo npm run pipeline users-back
 *
 * Redis keeps the users at keys `user:{user_id}`; MongoDB keeps the key `user_id` as `_id`, which
 * the transform names `user_id` again; Elasticsearch keeps them in the index `users`, `user_id`
 * both a field and each document's `_id`, the columns' types in the mapping's `_meta`. Cassandra keeps
 * them in a table keyed (and partitioned) by `user_id`, read back by token ranges in parallel.
 */
export default definePipeline({
  source,
  target: process.env.TARGET_URL ?? 'sqlite:data/users-back.db',
  sourceTable: redis ? 'user:{user_id}' : 'users',
  targetTable: 'users',
  writeMode: 'recreate',
  validate: 'checksum',
  ...(cassandra && { strategy: 'parallel', numWorkers: 4 }),
  ...(mongodb && { targetKey: 'user_id', strategy: 'chunked', chunkSize: 25_000, transform: rename({ _id: 'user_id' }) }),
})
