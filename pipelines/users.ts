import { definePipeline } from '../src/index.js'
import { ensureLegacyUsers, type LegacyUser } from '../src/demo.js'

interface User {
  user_id: number
  full_name: string
  email_address: string
  registration_date: string
  is_active: number
  migrated_at: string
}

const migratedAt = new Date().toISOString()
const target = process.env.TARGET_URL ?? 'sqlite:data/target.db'

/**
 * The legacy `users` table into the new shape. Runs on an embedded SQLite demo by default;
 * SOURCE_URL and TARGET_URL point it at real databases (e.g. postgres://…, mysql://…). A Redis
 * target gets one hash per user at `user:{user_id}`; `npm run pipeline users-back` reads them back.
 */
export default definePipeline<LegacyUser, User>({
  source: process.env.SOURCE_URL ?? ensureLegacyUsers('data/legacy.db'),
  target,
  sourceTable: 'users',
  // In Redis a table is a key pattern; its {column} is the target key.
  targetTable: /^rediss?:/.test(target) ? 'user:{user_id}' : 'users',
  primaryKey: 'id',
  targetKey: 'user_id',
  strategy: 'chunked',
  chunkSize: 10_000,
  batchSize: 1000,
  writeMode: 'upsert',
  validate: 'checksum',
  validateIgnore: ['migrated_at'],
  transform: (user) => ({
    user_id: user.id,
    full_name: `${user.first_name.trim()} ${user.last_name.trim()}`,
    email_address: user.email.toLowerCase(),
    registration_date: user.created_at,
    is_active: user.status === 'active' ? 1 : 0,
    migrated_at: migratedAt,
  }),
})
