import { AbortError } from 'p-retry'
import { faultPoint } from '../src/faults.js'
import { keyOf, keyText } from '../src/keys.js'
import type { RawPage, ReadingPage } from '../src/raw.js'
import type { WriteKind } from '../src/sink.js'
import { isolate, kindOf, withRetries, type Committed, type WriterContext } from './write.js'

/**
 * The sink stage of the raw passthrough: writes each page of raw text as it is, in one transaction
 * with retries, as `writeBatches` writes rows. The first attempt writes the page while it is still
 * being read; a retry writes the whole page, kept for it. A page the target refuses is decoded and
 * split like a batch of rows, so the refused rows are found and set aside and the others still
 * load. A page whose read failed is void: nothing of it is committed, and the read starts again
 * before it.
 */
export function writeRawPages(ctx: WriterContext) {
  return async function* (pages: AsyncIterable<ReadingPage>): AsyncGenerator<Committed> {
    for await (const page of pages) {
      ctx.signal.throwIfAborted()
      ctx.stop.throwIfAborted()
      const committed = await ctx.inFlight.track(writePage(ctx, page))
      if (committed) yield committed
    }
  }
}

async function writePage(ctx: WriterContext, page: ReadingPage): Promise<Committed | undefined> {
  const raw = ctx.sink.raw
  if (!raw) throw new Error(`the ${ctx.sink.engine} sink has no raw write`)
  const kind = kindOf(ctx)
  let whole: RawPage | undefined
  const lost = (): Promise<boolean> =>
    page.whole.then(
      (p) => ((whole = p), false),
      () => true,
    )
  let readFailed = false
  let attempts = 0
  // The text, then the wait for the page to be whole and for the checkpoint's lease over its rows,
  // before the sink commits; the kill tests' crash point is there, inside the transaction.
  async function* text(chunks: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncGenerator<Buffer> {
    yield* chunks
    faultPoint('sink-write')
    await ctx.lease.beforeCommit((await page.whole).rows)
  }
  const write = async (k: WriteKind): Promise<void> => {
    const chunks = attempts++ === 0 ? page.text() : (await page.whole).chunks
    try {
      await raw.write(ctx.target, { columns: page.columns, chunks: text(chunks) }, k)
    } catch (err) {
      // Whatever the target said, a page whose read failed is not retried: it is read again.
      if (await lost()) {
        readFailed = true
        throw new AbortError(err as Error)
      }
      throw err
    }
  }
  // Known by the time a failure is reported: a failed write waits for its page to be whole.
  const about = { get rows() { return whole?.rows ?? 0 }, key: () => (whole ? keyText(keyOf(whole.decode()[0]!, ctx.target.key)) : '') }
  let written: number
  try {
    await withRetries(ctx, about, kind, write)
    written = (await page.whole).rows
  } catch (err) {
    if (readFailed) return undefined
    if (ctx.sink.classify(err) !== 'rejected') throw err
    written = await isolate(ctx, (await page.whole).decode(), kind, err)
  }
  const { rows, position } = await page.whole
  ctx.stats.committed({ migrated: written, failed: rows - written, skipped: 0, filtered: 0 }, ctx.worker)
  return { position, sourceRows: rows, written, filtered: 0, existing: 0, failed: rows - written }
}
