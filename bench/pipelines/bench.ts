import { definePipeline, type StrategyName } from '../../src/index.js'
import users from '../../pipelines/users.js'

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback
  if (value === undefined) throw new Error(`bench pipeline: set ${name}`)
  return value
}

/**
 * The pipeline `npm run bench` times: a straight copy (no transform) of the generated users table,
 * configured from the environment so that one file serves every case:
 * SOURCE_URL, TARGET_URL, SOURCE_TABLE, TARGET_TABLE, KEY, STRATEGY, WORKERS, CHUNK_SIZE, BATCH_SIZE,
 * PASSTHROUGH (`false`: decode rows even PG → PG), TRANSFORM (`users`: the users demo's transform,
 * pipelines/users.ts, which the bench table's columns fit, into a target keyed on its `user_id`).
 *
 * Settings are those a user would run with: checkpoints on at their default interval, the target
 * dropped and created by ferry at the start of each run (`recreate`), and validation off, as the
 * references validate nothing.
 */
export default definePipeline({
  source: env('SOURCE_URL'),
  target: env('TARGET_URL'),
  sourceTable: env('SOURCE_TABLE', 'users'),
  targetTable: env('TARGET_TABLE', 'users_ferry'),
  primaryKey: env('KEY', 'id'),
  strategy: env('STRATEGY', 'streaming') as StrategyName,
  numWorkers: Number(env('WORKERS', '2')),
  chunkSize: Number(env('CHUNK_SIZE', '10000')),
  // Unset unless BATCH_SIZE is: the default a user gets (1000 rows; the raw passthrough by batchBytes).
  ...(process.env.BATCH_SIZE && { batchSize: Number(process.env.BATCH_SIZE) }),
  passthrough: env('PASSTHROUGH', 'true') !== 'false',
  ...(process.env.TRANSFORM === 'users' && { transform: users.settings.transform, targetKey: 'user_id' }),
  writeMode: 'recreate',
  validate: false,
  checkpoints: true,
  checkpointDir: 'bench/.out/checkpoints',
  logDir: 'bench/.out/logs',
  reportDir: 'bench/.out/reports',
})
