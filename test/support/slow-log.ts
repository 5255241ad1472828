/** Test support: an event log whose tail is slow — what a JetStream fetch or a busy disk looks like to the run loop. */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReadOptions } from '../../engine/log/append-log.ts';
import type { EventLog, LoggedEvent } from '../../engine/log/event-log.ts';

/** The same log, its tail handing out batches of at most `size` events, each only after `pauseMs`. */
export function slowLog(log: EventLog, pauseMs: number, size = 100): EventLog {
  return {
    ...log,
    kind: log.kind,
    append: (events) => log.append(events),
    read: (from, max) => log.read(from, max),
    async *tail(from: number, options: ReadOptions = {}): AsyncIterable<LoggedEvent[]> {
      for await (const batch of log.tail(from, { ...options, maxBatch: size })) {
        await sleep(pauseMs);
        yield batch;
      }
    },
    lastSeq: () => log.lastSeq(),
    position: (name) => log.position(name),
    commit: (name, seq) => log.commit(name, seq),
    close: () => log.close(),
  };
}
