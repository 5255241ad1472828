/**
 * The order a backfill reads the log in: event time (timestamp, then log position), whatever the
 * order the events arrived in. Decides which events come next and reads them from the log.
 *
 * An index of one space's events up to a cut position — 20 bytes per event (timestamp and position
 * as float64, a uint32 permutation; up to twice the float64 part while its arrays grow) — is built by scanning the log once, sorted, and then walked: each
 * step reads the next events of the order from the log, merging nearby positions into ranged reads.
 * A log in about event-time order is read about twice (index, replay); each event that arrived out
 * of order costs a short ranged read of its own. The index is bounded by `maxEvents` (beyond it the
 * backfill fails with a reason); only one step's events are decoded at a time. Issues 16/17 replace
 * this with one shared pass.
 */
import type { EventLog, LoggedEvent } from '../log/event-log.ts';

/** Positions this close together are read with one ranged read: a read costs about as much as decoding 40 events, so reading a few unneeded ones is cheaper than another read, and a sparse run is not read whole. */
const MERGE_GAP = 32;

export class EventTimeIndex {
  #ts = new Float64Array(1024);
  #seq = new Float64Array(1024);
  #n = 0;
  #order: Uint32Array | null = null;
  /** how far the walk has gone through the order. */
  #next = 0;
  #missing = 0;

  constructor(readonly maxEvents: number) {}

  get size(): number {
    return this.#n;
  }

  /** Indexed events the log no longer held when their turn came (removed by its retention meanwhile). */
  get missing(): number {
    return this.#missing;
  }

  /** Events handed out by `take` so far. */
  get taken(): number {
    return this.#next;
  }

  /** Adds an event (in log order); false when the index is full. */
  add(ts: number, seq: number): boolean {
    if (this.#n >= this.maxEvents) return false;
    if (this.#n === this.#ts.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.#ts = grow(this.#ts);
      this.#seq = grow(this.#seq);
    }
    this.#ts[this.#n] = ts;
    this.#seq[this.#n] = seq;
    this.#n++;
    return true;
  }

  /** Sorts the index into event-time order (ties: log order, as events were added in it). */
  sort(): void {
    const ts = this.#ts;
    const order = new Uint32Array(this.#n);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((a, b) => ts[a]! - ts[b]! || a - b);
    this.#order = order;
  }

  get done(): boolean {
    return this.#order !== null && this.#next >= this.#n;
  }

  /** Reads the next `max` events of the order from `log` and returns them in that order. */
  async take(log: EventLog, max: number): Promise<LoggedEvent[]> {
    if (this.#order === null) this.sort();
    const order = this.#order!;
    const end = Math.min(this.#n, this.#next + max);
    const seqs: number[] = [];
    for (let i = this.#next; i < end; i++) seqs.push(this.#seq[order[i]!]!);
    const wanted = [...seqs].sort((a, b) => a - b);
    const bySeq = new Map<number, LoggedEvent>();
    let i = 0;
    while (i < wanted.length) {
      let j = i;
      while (j + 1 < wanted.length && wanted[j + 1]! - wanted[j]! <= MERGE_GAP) j++;
      const from = wanted[i]!;
      const to = wanted[j]!;
      let at = from;
      while (at <= to) {
        const batch = await log.read(at, to - at + 1);
        if (batch.length === 0) break;
        for (const e of batch) if (e.seq <= to) bySeq.set(e.seq, e);
        at = batch[batch.length - 1]!.seq + 1;
      }
      i = j + 1;
    }
    const out: LoggedEvent[] = [];
    for (const s of seqs) {
      const e = bySeq.get(s);
      // (an event the log's retention removed since it was indexed: gone for every reader)
      if (e === undefined) this.#missing++;
      else out.push(e);
    }
    this.#next = end;
    return out;
  }
}
