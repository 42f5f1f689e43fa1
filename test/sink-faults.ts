import { SinkWriteError } from '../src/errors.js'
import type { Sink } from '../src/sink.js'
import { SqliteSink } from '../sinks/sqlite.js'

/**
 * A real SQLite sink whose first `failures` writes throw a transient error, as a dropped
 * connection would: a fault injected in front of a real database, not a mock of one.
 */
export function flakySqliteSink(file: string, failures: number): () => Sink {
  let left = failures
  return () => {
    const sink = new SqliteSink(file)
    const write = sink.write.bind(sink)
    sink.write = async (target, rows, kind) => {
      if (left-- > 0) throw new SinkWriteError('connection reset by peer', 'transient')
      return write(target, rows, kind)
    }
    return sink
  }
}

/** A real SQLite sink that fails for good (as a dropped table would) after `writes` writes. */
export function failingAfter(file: string, writes: number): () => Sink {
  let left = writes
  return () => {
    const sink = new SqliteSink(file)
    const write = sink.write.bind(sink)
    sink.write = async (target, rows, kind) => {
      if (left-- <= 0) throw new SinkWriteError('permission denied for table items', 'fatal')
      return write(target, rows, kind)
    }
    return sink
  }
}

/** A real SQLite sink whose first `failures` lookups (validation's) fail transiently, as a dropped connection would. */
export function flakyLookupSink(file: string, failures: number): () => Sink {
  let left = failures
  return () => {
    const sink = new SqliteSink(file)
    const lookup = sink.lookup.bind(sink)
    sink.lookup = async (target, keys) => {
      if (left-- > 0) throw new SinkWriteError('connection reset by peer', 'transient')
      return lookup(target, keys)
    }
    return sink
  }
}
