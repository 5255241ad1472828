/**
 * A worker's input (`--role worker`): the resolved log read as an event log, only the partitions the
 * worker owns. It decides what the worker may apply next, and when it owes other workers a state.
 *
 * An event is applied once, from the first of its targets the worker owns (the stage put a copy in
 * each). An event some profile of which this worker lacks (`lacks`) — an absorbed profile of another
 * worker's partition (whole, where the event's profile is this worker's own: a shadow of it is not
 * enough there), or a user it starts shadowing (it linked to an account here) — waits, with
 * everything after it, until that profile's state record has come. When the input reaches an event, before it
 * is applied and whether or not it waits, the worker publishes the states of the event's profiles of
 * its own partitions that other targets lack (a `prepare`: the states as they are before the event).
 * A profile absorbed in a partition of the worker that applies no target of the event is detached
 * by the handover the stage published right after the event, and its state published then.
 *
 * Why no two workers wait for each other: take the earliest event anyone waits at. A state it waits
 * for is published either at a `prepare` — by a worker that applies the same event, whose input has
 * reached it (it waits at no earlier event) — or at the handover right after it, by a worker that
 * applies no target of the event: its input holds no event in between, and it waits at no earlier
 * one, so it has read the handover. Either way it is published. And a state comes later in the log
 * than the event it is for (it is published once its worker has read the event, or the handover
 * after it), so a restart from any position re-reads both.
 *
 * Every record becomes one `LoggedEvent` carrying its `resolved` record; records that are not events
 * (watermarks, handovers, state transfers, other partitions' records at the end of a batch) carry a
 * stand-in event named after their position, so the engine's position checks work unchanged. A
 * prepare goes out under the position of the item before it: it moves no position.
 */
import { eventWith, type FlockEvent } from '../event/model.ts';
import type { AppendLog, AppendResult, LogEntry, ReadOptions } from '../log/append-log.ts';
import type { EventLog, LoggedEvent } from '../log/event-log.ts';
import type { PendingEntry } from '../runtime/runtime.ts';
import { decodeResolved, lacks, lackingTargets, partitionOfKey, resolvedPartition, transferKey, type HandoverRecord, type ResolvedEventRecord, type StateRecord, type TransferTarget, type WatermarkRecord } from './resolved-records.ts';

/** A profile's state from another worker, as its state record carried it. */
export interface StateCopy {
  readonly state: unknown;
  readonly pending: PendingEntry | null;
}

/** Publish, at instant `at`, the states of these profiles (of this worker's partitions) that other targets of an event lack. */
export interface PrepareInput {
  readonly kind: 'prepare';
  /** the position of the event it prepares (the prepare itself goes out under the one before). */
  readonly event: number;
  readonly at: number;
  readonly publish: readonly TransferTarget[];
}

/** What a worker applies: an event (with the states it waits for), a control record, or a prepare. */
export type ResolvedInput =
  | (ResolvedEventRecord & { readonly states: ReadonlyMap<string, StateCopy>; readonly partition: number })
  | WatermarkRecord
  | (HandoverRecord & { readonly partition: number })
  | PrepareInput
  /** a state record already taken up, a copy for another target, or other partitions' records: only the position moves. */
  | { readonly kind: 'skip' };

const SKIP: ResolvedInput = Object.freeze({ kind: 'skip' });

/** Holds back events until the states they wait for have been read. One per read or tail. */
class Sequencer {
  readonly #arrived = new Map<string, StateCopy>();
  readonly #held: Array<{ entry: LogEntry; event: ResolvedEventRecord | null; other: ResolvedInput | null }> = [];

  /** per partition, the highest event order released here (a copy at or before it waits for nothing). */
  readonly #released = new Map<number, number>();
  /** the last item released (a prepare goes out under its position), and the event whose prepare went out. */
  #last: LoggedEvent = { seq: 0, event: standIn(0) };
  #prepared = -1;
  /** the event that holds the input back (its position and the profiles whose states it waits for), if one does. */
  waiting: { readonly seq: number; readonly states: readonly string[] } | undefined;

  constructor(
    readonly owned: ReadonlySet<number>,
    readonly partitions: number,
    /** the engine's applied orders per partition (from its checkpoint on). */
    readonly applied: ReadonlyMap<number, number>,
  ) {}

  #owns = (p: number): boolean => this.owned.has(p);

  /** The first of `partitions` this worker owns (−1: none). */
  #first(partitions: readonly number[]): number {
    for (const p of partitions) if (this.owned.has(p)) return p;
    return -1;
  }

  /** The highest event order released or applied here: a state for an event at or before it comes too late (a second copy). */
  #done(): number {
    let max = -1;
    for (const o of this.#released.values()) if (o > max) max = o;
    for (const o of this.applied.values()) if (o > max) max = o;
    return max;
  }

  /** Whether this worker waits for a state record: it lacks the profile (`lacks`), and the record is the copy for its first partition. */
  #wants(r: StateRecord, partition: number): boolean {
    return this.#first(r.to) === partition && r.order > this.#done() && lacks(this.#owns, this.#targetsOf(r), r.from, r.into, r.have, this.partitions);
  }

  /** The targets a state record is for, as far as `lacks` reads them: the event's own partition first, then the others it went to. */
  #targetsOf(r: StateRecord): number[] {
    return [resolvedPartition(r.into, this.partitions), ...r.to];
  }

  /** The states this worker publishes when its input reaches `e`: its own partitions' profiles that targets of other workers lack. */
  #owes(e: ResolvedEventRecord): TransferTarget[] {
    const out: TransferTarget[] = [];
    for (const [from, have] of e.holders) {
      if (!this.owned.has(resolvedPartition(from, this.partitions))) continue;
      const to = lackingTargets(e.targets, from, e.profileId, have, this.partitions).filter((p) => !this.owned.has(p));
      if (to.length > 0) out.push({ space: e.event.space, from, into: e.profileId, messageId: e.event.messageId, order: e.order, have, to });
    }
    return out;
  }

  /** Takes entries in log order; returns those ready to apply, in order. */
  feed(entries: readonly LogEntry[]): LoggedEvent[] {
    for (const entry of entries) {
      const partition = partitionOfKey(entry.key);
      if (!this.owned.has(partition)) {
        this.#held.push({ entry, event: null, other: SKIP });
        continue;
      }
      const r = decodeResolved(entry.data);
      if (r.kind === 'state') {
        if (this.#wants(r, partition)) this.#arrived.set(transferKey(r.space, r.from, r.messageId), { state: r.state, pending: r.pending });
        this.#held.push({ entry, event: null, other: SKIP });
      } else if (r.kind === 'event') {
        // (a copy for another target of this worker's: the event is applied from the first)
        if (this.#first(r.targets) === partition) this.#held.push({ entry, event: r, other: null });
        else this.#held.push({ entry, event: null, other: SKIP });
      } else if (r.kind === 'handover') {
        // (a worker that applies the event merges the profile there itself)
        this.#held.push({ entry, event: null, other: r.targets.some(this.#owns) ? SKIP : { ...r, partition } });
      } else this.#held.push({ entry, event: null, other: r });
    }
    const out: LoggedEvent[] = [];
    let i = 0;
    for (; i < this.#held.length; i++) {
      const h = this.#held[i]!;
      if (h.event === null) {
        // (consecutive skips: only the last one needs to move the position)
        const next = this.#held[i + 1];
        if (h.other === SKIP && next !== undefined && next.other === SKIP) continue;
        out.push((this.#last = { seq: h.entry.seq, event: standIn(h.entry.seq), resolved: h.other! }));
        continue;
      }
      const e = h.event;
      const space = e.event.space;
      const partition = partitionOfKey(h.entry.key);
      // a copy the stage published again: the engine skips it; its states were taken by the first
      const copy = e.order <= Math.max(this.#released.get(partition) ?? -1, this.applied.get(partition) ?? -1);
      const awaited: string[] = [];
      if (!copy) {
        if (this.#prepared !== h.entry.seq) {
          this.#prepared = h.entry.seq;
          const publish = this.#owes(e);
          if (publish.length > 0) out.push({ seq: this.#last.seq, event: this.#last.event, resolved: { kind: 'prepare', event: h.entry.seq, at: e.at, publish } });
        }
        for (const [from, have] of e.holders) if (lacks(this.#owns, e.targets, from, e.profileId, have, this.partitions)) awaited.push(from);
      }
      const has = (from: string) => this.#arrived.has(transferKey(space, from, e.event.messageId));
      if (!awaited.every(has)) {
        this.waiting = { seq: h.entry.seq, states: awaited.filter((from) => !has(from)) };
        break;
      }
      const states = new Map<string, StateCopy>();
      for (const from of awaited) {
        const key = transferKey(space, from, e.event.messageId);
        states.set(from, this.#arrived.get(key)!);
        this.#arrived.delete(key);
      }
      if (!copy) this.#released.set(partition, e.order);
      out.push((this.#last = { seq: h.entry.seq, event: e.event, resolved: { ...e, states, partition } }));
    }
    if (i === this.#held.length) this.waiting = undefined;
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

  /** The event the newest tail holds back, waiting for states (for a worker's progress lines: a worker that stays here waits for another). */
  get waiting(): { readonly seq: number; readonly states: readonly string[] } | undefined {
    return this.#tailing?.waiting;
  }

  #tailing: Sequencer | undefined;

  async *tail(from: number, options: ReadOptions = {}): AsyncIterable<LoggedEvent[]> {
    const sequencer = (this.#tailing = new Sequencer(this.owned, this.partitions, this.#applied));
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
