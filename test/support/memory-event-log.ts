/** An in-memory EventLog for API tests: keeps appended events, dedupes by (space, messageId), and can be told to fail. */
import type { EventLog, LoggedEvent } from '../../engine/log/event-log.ts';
import type { AppendResult } from '../../engine/log/append-log.ts';
import type { FlockEvent } from '../../engine/event/model.ts';

export class MemoryEventLogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MemoryEventLogError';
  }
}

export interface MemoryEventLog extends EventLog {
  readonly events: FlockEvent[];
  /** number of append calls, failed ones included. */
  appends: number;
  /** when set, append rejects with this error. */
  failWith: Error | null;
  /** forgets every event and every seen messageId. */
  clear(): void;
}

export function memoryEventLog(): MemoryEventLog {
  const events: FlockEvent[] = [];
  const seqOf = new Map<string, number>();
  const log: MemoryEventLog = {
    kind: 'embedded',
    events,
    appends: 0,
    failWith: null,
    clear() {
      events.length = 0;
      seqOf.clear();
    },
    async append(batch: readonly FlockEvent[]): Promise<AppendResult> {
      log.appends++;
      if (log.failWith !== null) throw log.failWith;
      const seqs: number[] = [];
      let duplicates = 0;
      for (const event of batch) {
        const key = `${event.space}\u0000${event.messageId}`;
        const seen = seqOf.get(key);
        if (seen !== undefined) {
          duplicates++;
          seqs.push(seen);
          continue;
        }
        events.push(event);
        seqOf.set(key, events.length);
        seqs.push(events.length);
      }
      return { seqs, duplicates };
    },
    async read(from: number, max: number): Promise<LoggedEvent[]> {
      const start = Math.max(1, from);
      return events.slice(start - 1, start - 1 + max).map((event, i) => ({ seq: start + i, event }));
    },
    async *tail(): AsyncIterable<LoggedEvent[]> {
      throw new MemoryEventLogError('tail is not needed by the API tests');
    },
    lastSeq: async () => events.length,
    position: async () => 0,
    commit: async () => undefined,
    close: async () => undefined,
  };
  return log;
}
