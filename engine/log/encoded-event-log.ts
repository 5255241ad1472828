/** The EventLog over any AppendLog: encodes FlockEvents with the shared-structure codec, routes by space and partition, dedupes per space. */
import type { EventCodec } from '../event/codec.ts';
import type { FlockEvent } from '../event/model.ts';
import type { AppendLog, AppendResult, LogEntry, LogRecord, ReadOptions } from './append-log.ts';
import type { EventLog, LoggedEvent } from './event-log.ts';
import { CorruptRecordError } from './log-errors.ts';
import { decodeJsonEvent, isJsonRecord } from '../event/json-event.ts';
import { partitionOf } from './partition.ts';

/** a space id is one subject token: it must not add tokens, wildcards or whitespace to `flock.events.<space>.<partition>`. */
const SPACE = /^[A-Za-z0-9_-]+$/;

export class EncodedEventLog implements EventLog {
  readonly kind: 'embedded' | 'jetstream';
  readonly #log: AppendLog;
  readonly #codec: EventCodec;
  readonly #partitions: number;
  #invalid = 0;
  #onInvalid: ((seq: number, error: CorruptRecordError) => void) | undefined;

  /** `codec` must be prepared and read its structures from `log`. */
  constructor(log: AppendLog, codec: EventCodec, partitions: number) {
    if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
    this.kind = log.kind;
    this.#log = log;
    this.#codec = codec;
    this.#partitions = partitions;
  }

  /** the underlying bytes-level log (benches and tests reach for it). */
  get appendLog(): AppendLog {
    return this.#log;
  }

  get codec(): EventCodec {
    return this.#codec;
  }

  async append(events: readonly FlockEvent[]): Promise<AppendResult> {
    if (events.length === 0) return { seqs: [], duplicates: 0 };
    for (const event of events) {
      if (!SPACE.test(event.space)) throw new RangeError(`space id ${JSON.stringify(event.space)} must match ${SPACE}`);
    }
    return this.#codec.write(events, (encoded, structures) => {
      const records: LogRecord[] = new Array(events.length);
      for (let i = 0; i < events.length; i++) {
        const event = events[i] as FlockEvent;
        records[i] = {
          // messageIds are unique per source, so dedupe within a space only
          id: `${event.space}/${event.messageId}`,
          key: `${event.space}.${partitionOf(event, this.#partitions)}`,
          data: encoded[i] as Uint8Array,
        };
      }
      return this.#log.append(records, structures === undefined ? {} : { structures });
    });
  }

  async read(from: number, max: number): Promise<LoggedEvent[]> {
    return this.#decode(await this.#log.read(from, max));
  }

  async *tail(from: number, options?: ReadOptions): AsyncIterable<LoggedEvent[]> {
    for await (const batch of this.#log.tail(from, options)) yield await this.#decode(batch);
  }

  /** reloads the registry once per batch if a record needs structures added by another writer, then decodes synchronously. */
  async #decode(entries: readonly LogEntry[]): Promise<LoggedEvent[]> {
    const codec = this.#codec;
    let needed = 0;
    let i = 0;
    try {
      for (; i < entries.length; i++) {
        const data = (entries[i] as LogEntry).data;
        if (isJsonRecord(data)) continue;
        const n = codec.required(data);
        if (n > needed) needed = n;
      }
      if (needed > codec.structureCount) await codec.ensure(needed);
      const out: LoggedEvent[] = [];
      for (i = 0; i < entries.length; i++) {
        const entry = entries[i] as LogEntry;
        if (!isJsonRecord(entry.data)) {
          out.push({ seq: entry.seq, event: codec.decode(entry.data) });
          continue;
        }
        // JSON published straight to the subjects by other producers: a bad one is skipped and
        // reported, never allowed to stop the engine.
        try {
          out.push({ seq: entry.seq, event: decodeJsonEvent(entry.data, entry.key) });
        } catch (error) {
          if (!(error instanceof CorruptRecordError)) throw error;
          this.#invalid++;
          this.#onInvalid?.(entry.seq, error);
        }
      }
      return out;
    } catch (error) {
      if (!(error instanceof CorruptRecordError)) throw error;
      const seq = entries[i]?.seq;
      throw new CorruptRecordError(`event log record ${seq ?? `near ${entries[0]?.seq}`}: ${error.message}`, { cause: error });
    }
  }

  lastSeq(): Promise<number> {
    return this.#log.lastSeq();
  }

  /** JSON records skipped because they were not valid events. */
  get invalidRecords(): number {
    return this.#invalid;
  }

  /** Called for each skipped JSON record (to log it). */
  onInvalidRecord(listener: (seq: number, error: CorruptRecordError) => void): void {
    this.#onInvalid = listener;
  }

  position(name: string): Promise<number> {
    return this.#log.position(name);
  }

  commit(name: string, seq: number): Promise<void> {
    return this.#log.commit(name, seq);
  }

  reachable(): boolean {
    return this.#log.reachable?.() ?? true;
  }

  close(): Promise<void> {
    return this.#log.close();
  }
}
