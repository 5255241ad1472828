/** Test support: an event log whose tail hands over every batch it holds without a turn of the event loop — what JetStream's tail does with the records it buffered. */
import type { ReadOptions } from '../../engine/log/append-log.ts';
import type { EventLog, LoggedEvent } from '../../engine/log/event-log.ts';

/** The same log, its tail reading everything from `from` at once, then yielding batches of `size` with no macrotask between them (then waiting until aborted). */
export function bufferedLog(log: EventLog, size = 100): EventLog {
  return {
    ...log,
    kind: log.kind,
    append: (events) => log.append(events),
    read: (from, max) => log.read(from, max),
    async *tail(from: number, options: ReadOptions = {}): AsyncIterable<LoggedEvent[]> {
      const all = await log.read(from, Number.MAX_SAFE_INTEGER);
      for (let i = 0; i < all.length; i += size) yield all.slice(i, i + size);
      // (nothing more: a live tail waits for the next record)
      if (options.signal?.aborted !== true) await new Promise((resolve) => options.signal?.addEventListener('abort', resolve, { once: true }));
    },
    lastSeq: () => log.lastSeq(),
    position: (name) => log.position(name),
    commit: (name, seq) => log.commit(name, seq),
    close: () => log.close(),
  };
}
