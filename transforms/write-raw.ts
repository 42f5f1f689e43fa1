import type { RawPage } from '../src/raw.js'
import { keyOf, keyText } from '../src/keys.js'
import { isolate, kindOf, withRetries, type Committed, type WriterContext } from './write.js'

/**
 * The sink stage of the raw passthrough: writes each page of raw text as it is, in one transaction
 * with retries, as `writeBatches` writes rows. A page the target refuses is decoded and split
 * like a batch of rows, so the refused rows are found and set aside and the others still load.
 */
export function writeRawPages(ctx: WriterContext) {
  const raw = ctx.sink.raw
  if (!raw) throw new Error(`the ${ctx.sink.engine} sink has no raw write`)
  return async function* (pages: AsyncIterable<RawPage>): AsyncGenerator<Committed> {
    for await (const page of pages) {
      ctx.signal.throwIfAborted()
      ctx.stop.throwIfAborted()
      yield await ctx.inFlight.track(writePage(ctx, page, (kind) => raw.write(ctx.target, page, kind)))
    }
  }
}

async function writePage(ctx: WriterContext, page: RawPage, write: Parameters<typeof withRetries<void>>[3]): Promise<Committed> {
  const kind = kindOf(ctx)
  await ctx.lease.beforeCommit(page.rows)
  // The first row's key names the batch in the run's errors; decoding the page is for failures only.
  const key = () => keyText(keyOf(page.decode()[0]!, ctx.target.key))
  let written = page.rows
  try {
    await withRetries(ctx, { rows: page.rows, key }, kind, write)
  } catch (err) {
    written = await isolate(ctx, page.decode(), kind, err)
  }
  const failed = page.rows - written
  ctx.stats.committed({ migrated: written, failed, skipped: 0, filtered: 0 }, ctx.worker)
  return { position: page.position, sourceRows: page.rows, written, filtered: 0, existing: 0, failed }
}
