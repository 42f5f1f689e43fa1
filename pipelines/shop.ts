import { definePipeline } from '../src/index.js'
import { ensureShop } from '../src/demo.js'

/**
 * A shop's tables in order — customers, then orders, then payments — on an embedded SQLite demo
 * (SOURCE_URL / TARGET_URL point it elsewhere). `npm run pipeline shop -- --only orders,payments`
 * runs a subset; `-- --dry-run` prints the plan.
 */
export default definePipeline({
  source: process.env.SOURCE_URL ?? ensureShop('data/shop.db'),
  target: process.env.TARGET_URL ?? 'sqlite:data/shop-target.db',
  writeMode: 'upsert',
  validate: 'checksum',
  deferIndexes: true,
  tables: [
    { sourceTable: 'customers', transform: (c) => ({ ...c, email: String(c.email).toLowerCase() }) },
    { sourceTable: 'orders', where: "status <> 'cancelled'", strategy: 'parallel', numWorkers: 2, chunkSize: 1000 },
    { sourceTable: 'payments', after: (ctx) => ctx.sql('ANALYZE payments') },
  ],
  after: async (ctx) => ctx.log('all tables loaded'),
})
