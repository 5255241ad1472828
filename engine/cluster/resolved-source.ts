/**
 * A worker's input (`--role worker`): the resolved log read as an event log, only the partitions the
 * worker owns. It decides what the worker may apply next: an event whose merge absorbs a profile of
 * a partition another worker owns waits — with everything after it — until that profile's state
 * record has come. The other worker publishes it when it reaches the handover, which the identity
 * stage published right after the event: so the state always comes later in the log than the event
 * waiting for it (a restart from any position re-reads both), and two workers never wait for each
 * other (each waits only for a handover that follows, immediately, an event earlier than its own).
 * A profile of a partition this worker owns is merged here, in log order, with no transfer.
 *
 * Every record becomes one `LoggedEvent` carrying its `resolved` record; records that are not events
 * (watermarks, handovers, state transfers, other partitions' records at the end of a batch) carry a
 * stand-in event named after their position, so the engine's position checks work unchanged.
 */
import { eventWith, type FlockEvent } from '../event/model.ts';
import type { AppendLog, AppendResult, LogEntry, ReadOptions } from '../log/append-log.ts';
import type { EventLog, LoggedEvent } from '../log/event-log.ts';
import { decodeResolved, partitionOfKey, resolvedPartition, transferKey, type HandoverRecord, type ResolvedEventRecord, type WatermarkRecord } from './resolved-records.ts';

/** What a worker applies: an event (with the states its cross-partition merges need), or a control record. */
export type ResolvedInput =
  | (ResolvedEventRecord & { readonly states: ReadonlyMap<string, unknown>; readonly partition: number })
  | WatermarkRecord
  | (HandoverRecord & { readonly partition: number })
  /** a state record already taken up, or other partitions' records: only the position moves. */
  | { readonly kind: 'skip' };

const SKIP: ResolvedInput = Object.freeze({ kind: 'skip' });

/** Holds back events until the states they wait for have been read. One per read or tail. */
class Sequencer {
  readonly #arrived = new Map<string, unknown>();
  readonly #held: Array<{ entry: LogEntry; event: ResolvedEventRecord | null; other: ResolvedInput | null }> = [];

  /** per partition, the highest event order released here (a copy at or before it waits for nothing). */
  readonly #released = new Map<number, number>();

  constructor(
    readonly owned: ReadonlySet<number>,
    readonly partitions: number,
    /** the engine's applied orders per partition (from its checkpoint on). */
    readonly applied: ReadonlyMap<number, number>,
  ) {}

  /** the states `e` waits for: of absorbed profiles in partitions another worker owns (an owned one is here already). */
  #awaited(e: ResolvedEventRecord): string[] {
    return e.transfers.filter((from) => !this.owned.has(resolvedPartition(from, this.partitions)));
  }

  /** Takes entries in log order; returns those ready to apply, in order. */
  feed(entries: readonly LogEntry[]): LoggedEvent[] {
    for (const entry of entries) {
      if (!this.owned.has(partitionOfKey(entry.key))) {
        this.#held.push({ entry, event: null, other: SKIP });
        continue;
      }
      const partition = partitionOfKey(entry.key);
      const r = decodeResolved(entry.data);
      if (r.kind === 'state') {
        this.#arrived.set(transferKey(r.space, r.from, r.messageId), r.state);
        this.#held.push({ entry, event: null, other: SKIP });
      } else if (r.kind === 'event') this.#held.push({ entry, event: r, other: null });
      else this.#held.push({ entry, event: null, other: r.kind === 'handover' ? { ...r, partition } : r });
    }
    const out: LoggedEvent[] = [];
    let i = 0;
    for (; i < this.#held.length; i++) {
      const h = this.#held[i]!;
      if (h.event === null) {
        // (consecutive skips: only the last one needs to move the position)
        const next = this.#held[i + 1];
        if (h.other === SKIP && next !== undefined && next.other === SKIP) continue;
        out.push({ seq: h.entry.seq, event: standIn(h.entry.seq), resolved: h.other! });
        continue;
      }
      const e = h.event;
      const space = e.event.space;
      const partition = partitionOfKey(h.entry.key);
      // a copy the stage published again: the engine skips it; its states were taken by the first
      const copy = e.order <= Math.max(this.#released.get(partition) ?? -1, this.applied.get(partition) ?? -1);
      const awaited = copy ? [] : this.#awaited(e);
      if (!awaited.every((from) => this.#arrived.has(transferKey(space, from, e.event.messageId)))) break;
      const states = new Map<string, unknown>();
      for (const from of awaited) {
        const key = transferKey(space, from, e.event.messageId);
        states.set(from, this.#arrived.get(key));
        this.#arrived.delete(key);
      }
      if (!copy) this.#released.set(partition, e.order);
      out.push({ seq: h.entry.seq, event: e.event, resolved: { ...e, states, partition } });
    }
    this.#held.splice(0, i);
    return out;
  }
}

/** The stand-in event of a record that is not an event (what the engine's position id reads). */
function standIn(seq: number): FlockEvent {
  return eventWith({ space: '_', messageId: `resolved.${seq}`, timestamp: 0, receivedAt: 0 });
}

export class ResolvedSource implements EventLog {
  readonly kind: EventLog['kind'];

  /** the worker engine's applied orders per partition (`useApplied`): copies of applied records wait for nothing. */
  #applied: ReadonlyMap<number, number> = new Map();

  constructor(
    readonly log: AppendLog,
    readonly owned: ReadonlySet<number>,
    /** the resolved log's partition count (the identity stage's). */
    readonly partitions: number,
  ) {
    this.kind = log.kind;
  }

  /** The engine hands over its applied orders (restored from its checkpoint) when it opens. */
  useApplied(applied: ReadonlyMap<number, number>): void {
    this.#applied = applied;
  }

  append(): Promise<AppendResult> {
    return Promise.reject(new Error('the resolved log is written by the identity stage, not appended to as an event log'));
  }

  /** Up to `max` records from `from` on, the ready prefix (an event waiting for a state beyond them ends it). */
  async read(from: number, max: number): Promise<LoggedEvent[]> {
    return new Sequencer(this.owned, this.partitions, this.#applied).feed(await this.log.read(from, max));
  }

  async *tail(from: number, options: ReadOptions = {}): AsyncIterable<LoggedEvent[]> {
    const sequencer = new Sequencer(this.owned, this.partitions, this.#applied);
    for await (const entries of this.log.tail(from, options)) {
      const ready = sequencer.feed(entries);
      if (ready.length > 0) yield ready;
    }
  }

  lastSeq(): Promise<number> {
    return this.log.lastSeq();
  }

  position(name: string): Promise<number> {
    return this.log.position(name);
  }

  commit(name: string, seq: number): Promise<void> {
    return this.log.commit(name, seq);
  }

  reachable(): boolean {
    return this.log.reachable?.() ?? true;
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
