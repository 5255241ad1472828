/**
 * The identity stage (`--role identity`): reads the raw event log in order, resolves who is who with
 * the identity graph it owns, decides each event's instant (the watermark over the whole log — what
 * one process would apply it at), and publishes the resolved records partitioned by canonical
 * profile id for the workers (resolved-records.ts). An event goes to its profile's partition and to
 * those of the accounts the profile is linked to (account-links.ts: its shadows there); each record
 * names the profiles a target may lack, whose state the worker of their partition publishes. A
 * merge absorbing a profile of a partition no target is in becomes a handover to that partition,
 * published right after the event that waits for it.
 *
 * Durable like the engine: the records of a batch are appended (deduplicated on ids derived from
 * the raw log's positions), then the graph's changes and the position are committed in one LMDB
 * transaction. A crash in between publishes the same records again, which the log drops.
 */
import type { EventLog, LoggedEvent } from '../log/event-log.ts';
import type { AppendLog, LogRecord } from '../log/append-log.ts';
import { isTransientLogError, sleep, backoffDelay, retrying, RetryAbortedError, type BackoffPolicy } from '../log/retry.ts';
import type { IdentityGraph } from '../identity/identity-graph.ts';
import type { CheckpointStore } from '../store/checkpoint-store.ts';
import { AccountLinks } from './account-links.ts';
import { encodeResolved, lackingTargets, resolvedKey, resolvedPartition, TIME_SPACE, type ResolvedRecord } from './resolved-records.ts';

export interface IdentityStageOptions {
  readonly eventLog: EventLog;
  readonly resolvedLog: AppendLog;
  /** the stage's own store: the identity graph, its position and watermark. */
  readonly store: CheckpointStore;
  readonly resolver: IdentityGraph;
  /** resolved partitions (default 16). */
  readonly partitions?: number;
  /** as the engine's `time`: `event` follows the log's event time only; `wall` evaluates recent batches at the wall clock. */
  readonly time?: 'wall' | 'event';
  readonly clock?: () => number;
  readonly tickMs?: number;
  readonly catchUpLagMs?: number;
  readonly maxBatch?: number;
  readonly backoff?: BackoffPolicy;
  /** test hook, as the engine's: `published` after a batch's records are durable, before its commit. */
  readonly probe?: (point: 'published', position: number) => void;
}

export interface IdentityStageStats {
  events: number;
  records: number;
  handovers: number;
  /** event copies to the partitions of the accounts their profiles are linked to (where the profiles are shadowed). */
  shadowCopies: number;
  /** states a target waits for (per profile and partition), and of those, users a partition starts shadowing. */
  stateTransfers: number;
  shadowStarts: number;
  position: number;
  watermark: number;
}

export class IdentityStage {
  readonly #o: Required<Omit<IdentityStageOptions, 'backoff' | 'probe'>> & Pick<IdentityStageOptions, 'backoff' | 'probe'>;
  #position: number;
  #watermark: number;
  /** the instant last sent to each partition (a watermark record goes where it is behind). */
  readonly #sent: number[];
  readonly #links: AccountLinks;
  readonly stats: IdentityStageStats;

  constructor(options: IdentityStageOptions) {
    this.#o = { partitions: 16, time: 'wall', clock: Date.now, tickMs: 1000, catchUpLagMs: 2000, maxBatch: 2000, ...options };
    const meta = options.store.meta();
    this.#position = meta.position;
    this.#watermark = meta.watermark;
    this.#sent = new Array<number>(this.#o.partitions).fill(meta.watermark);
    this.#links = new AccountLinks(options.store);
    this.stats = { events: 0, records: 0, handovers: 0, shadowCopies: 0, stateTransfers: 0, shadowStarts: 0, position: meta.position, watermark: meta.watermark };
  }

  get position(): number {
    return this.#position;
  }

  /** The records one batch of raw events becomes (and the watermark moves as one process would move it). */
  resolve(batch: readonly LoggedEvent[]): LogRecord[] {
    const out: LogRecord[] = [];
    const q = this.#o.partitions;
    const now = this.#o.clock();
    const newest = batch.length === 0 ? now : batch[batch.length - 1]!.event.receivedAt;
    const live = this.#o.time === 'wall' && !(newest < now - this.#o.catchUpLagMs);
    // (live: one instant for the batch, after every earlier one — as Runtime.live)
    if (live) this.#watermark = Math.max(now, this.#watermark + 1);
    const graph = this.#o.resolver;
    for (const { seq, event } of batch) {
      const created = graph.stats.created;
      const r = graph.resolve(event);
      if (r.profileId === null) continue;
      if (!live) {
        const t = this.#o.time === 'event' ? event.timestamp : Math.min(event.timestamp, now);
        if (t > this.#watermark) this.#watermark = t;
      }
      const at = this.#watermark;
      const space = event.space;
      const profileId = r.profileId;
      const home = resolvedPartition(profileId, q);
      // who held the profiles of this event before it: their own partitions and their accounts'
      const involved: Array<readonly [string, number[]]> = [];
      // (a profile the event created is nowhere yet: every target starts it from nothing)
      if (graph.stats.created === created) involved.push([profileId, this.#holders(space, profileId)]);
      for (const m of r.merges) {
        if (m.into !== profileId) throw new Error(`identity stage: merge of ${m.from} into ${m.into}, not into the event's profile ${profileId}`);
        involved.push([m.from, this.#holders(space, m.from)]);
      }
      this.#links.apply(event, profileId, r.merges);
      const targets = [home];
      for (const account of this.#links.of(space, profileId)) {
        const p = resolvedPartition(account, q);
        if (!targets.includes(p)) targets.push(p);
      }
      if (targets.length > 2) targets.push(...targets.splice(1).sort((a, b) => a - b));
      const holders = involved.filter(([id, have]) => lackingTargets(targets, id, profileId, have, q).length > 0);
      // (an order per record of this raw position: a worker applies each once, even one published twice)
      const order = seq * 1024;
      const record: ResolvedRecord = { kind: 'event', event, profileId, merges: r.merges, at, targets, holders, order };
      const data = encodeResolved(record);
      for (const [i, p] of targets.entries()) {
        out.push({ id: i === 0 ? `e.${seq}` : `e.${seq}.${p}`, key: resolvedKey(space, p), data });
        this.#sent[p] = at;
      }
      this.stats.shadowCopies += targets.length - 1;
      for (const [id, have] of holders) {
        const lacking = lackingTargets(targets, id, profileId, have, q).length;
        this.stats.stateTransfers += lacking;
        if (id === profileId) this.stats.shadowStarts += lacking;
      }
      // after the event that waits for it: an absorbed profile of a partition no target is in is
      // detached there (unless its worker applies the event), its state published to the targets lacking it
      let h = 0;
      for (const [from, have] of involved) {
        const p = resolvedPartition(from, q);
        if (from === profileId || targets.includes(p)) continue;
        const handover: ResolvedRecord = { kind: 'handover', space, from, into: profileId, at, messageId: event.messageId, order: order + 1 + h++, targets, eventOrder: order, have };
        out.push({ id: `h.${seq}.${from}`, key: resolvedKey(space, p), data: encodeResolved(handover) });
        this.#sent[p] = at;
        this.stats.handovers++;
      }
      this.stats.events++;
    }
    out.push(...this.#watermarks());
    this.stats.records += out.length;
    return out;
  }

  /** The partitions holding a profile: its own, and those of the accounts it is linked to. */
  #holders(space: string, id: string): number[] {
    const q = this.#o.partitions;
    const have = [resolvedPartition(id, q)];
    for (const account of this.#links.of(space, id)) {
      const p = resolvedPartition(account, q);
      if (!have.includes(p)) have.push(p);
    }
    return have;
  }

  /** Watermark records to every partition the watermark is ahead of. */
  #watermarks(): LogRecord[] {
    const out: LogRecord[] = [];
    const at = this.#watermark;
    for (let p = 0; p < this.#o.partitions; p++) {
      if (this.#sent[p]! >= at) continue;
      out.push({ id: `w.${p}.${at}`, key: resolvedKey(TIME_SPACE, p), data: encodeResolved({ kind: 'watermark', at }) });
      this.#sent[p] = at;
    }
    return out;
  }

  /** Publishes a batch's records, then commits the graph and the position. */
  async process(batch: readonly LoggedEvent[], signal?: AbortSignal): Promise<void> {
    if (batch.length === 0) return;
    const records = this.resolve(batch);
    const last = batch[batch.length - 1]!;
    await this.#retry('publishing resolved records', () => this.#o.resolvedLog.append(records), signal);
    this.#o.probe?.('published', last.seq);
    await this.#commit(last.seq, `${last.event.space}/${last.event.messageId}`);
  }

  /** Wall clock: time moves with no events — every partition hears it. */
  async tick(signal?: AbortSignal): Promise<void> {
    if (this.#o.time !== 'wall') return;
    const now = this.#o.clock();
    if (now <= this.#watermark) return;
    this.#watermark = now;
    const records = this.#watermarks();
    if (records.length === 0) return;
    await this.#retry('publishing watermarks', () => this.#o.resolvedLog.append(records), signal);
    await this.#commit(this.#position, undefined);
  }

  async #commit(position: number, positionId: string | undefined): Promise<void> {
    const meta = this.#o.store.meta();
    await this.#o.store.commit({
      position,
      positionId,
      watermark: this.#watermark,
      profiles: this.#links.takeWrites(),
      pending: [],
      changes: [],
      publishedThrough: meta.publishedThrough,
      identity: this.#o.resolver.checkpointWrites(),
    });
    this.#position = position;
    this.stats.position = position;
    this.stats.watermark = this.#watermark;
  }

  #retry<T>(what: string, operation: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    return retrying(operation, { what, retryable: isTransientLogError, signal, ...(this.#o.backoff === undefined ? {} : { policy: this.#o.backoff }) });
  }

  /** Follows the raw log until `signal` aborts; an unreachable log is waited out. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const iterator = this.#o.eventLog.tail(this.#position + 1, { maxBatch: this.#o.maxBatch, signal })[Symbol.asyncIterator]();
        const pull = () => {
          const p = iterator.next();
          p.catch(() => {});
          return p;
        };
        let next = pull();
        try {
          for (;;) {
            let timer: NodeJS.Timeout | undefined;
            const idle = new Promise<'tick'>((resolve) => (timer = setTimeout(() => resolve('tick'), this.#o.tickMs)));
            const r = await Promise.race([next, idle]);
            clearTimeout(timer);
            if (signal.aborted) return;
            if (r === 'tick') {
              // (a batch merely slow to come is not idleness: time moves only when the log is read to its end)
              if ((await this.#o.eventLog.lastSeq()) <= this.#position) await this.tick(signal);
              continue;
            }
            if (r.done === true) return;
            next = pull();
            await this.process(r.value, signal);
          }
        } finally {
          await iterator.return?.();
        }
      } catch (error) {
        if (error instanceof RetryAbortedError || signal.aborted) return;
        if (!isTransientLogError(error)) throw error;
        await sleep(backoffDelay(0, Math.random(), this.#o.backoff), signal);
      }
    }
  }
}
