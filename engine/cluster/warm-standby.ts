/**
 * A warm standby: it decides what a worker that waits for a partition set's lease keeps ready, so a
 * takeover needs neither a snapshot download nor a long replay — only the lease wait and a short
 * muted replay to the fence the dead holder left.
 *
 * While it waits, the standby restores the set's newest snapshot into its own store (when that is
 * ahead of the store, or there is none), opens a worker engine on it and applies the resolved log as
 * it comes — muted, and never past the fence: the position the holder has committed on the resolved
 * log (replay-fence.ts), read every `pollMs`. Everything through the fence is on the change log
 * already (the holder committed it after publishing it), and so are the state transfers of it (the
 * holder publishes those before the checkpoint that commits the position), so the standby publishes
 * nothing: its change-log appends are dropped (a muted `FencedChangeLog`), its transfers held back
 * (`HeldLog`), its checkpoints commit no position (a `FencedSource` that does not commit) — they
 * only write its own store, so what it applied survives a restart of the standby.
 *
 * The fence rules of a takeover then hold unchanged: the copy is a state at a position at or below
 * the fence, like a restored snapshot, only a newer one. At takeover (worker-node.ts) the fence is
 * read again, the copy replays muted from its position to it, and its run leaves out what the dead
 * holder published past the fence's mark. A standby never passes the fence, so it never holds a
 * change nobody published. A prepare of an event past the fence is not applied either (the holder
 * may not have reached it: its changes are the run's, as in `replayToFence`).
 *
 * A store ahead of the fence — this process held the set, lost the lease, and its last checkpoint
 * is past the position it committed — is not opened muted (its outbox may hold changes nobody
 * published): the standby waits until the new holder's fence has passed it. A copy that falls far
 * behind the holder's newest snapshot (`restoreGap` positions) restores that snapshot instead of
 * replaying the gap. Every failure (the log or the object store unreachable) closes the copy and
 * starts again from the store after a backoff; a takeover meanwhile takes the cold path.
 */
import { Engine, type EngineOptions } from '../engine.ts';
import { DirectResolver } from '../identity/resolver.ts';
import type { AppendLog, AppendResult, LogRecord } from '../log/append-log.ts';
import { AppendLogView } from '../log/append-log-view.ts';
import type { LoggedEvent } from '../log/event-log.ts';
import { backoffDelay, sleep } from '../log/retry.ts';
import type { Plan } from '../plan/plan.ts';
import { CheckpointStore } from '../store/checkpoint-store.ts';
import type { PartitionSet } from './partition-set.ts';
import { FencedChangeLog, FencedSource, readFence, REPLAY_SLICE } from './replay-fence.ts';
import { removeSnapshotLeftovers, restoreSnapshot, snapshotInfo, storedCheckpoint, type SnapshotBucket } from './snapshot.ts';

/** A set kept warm: the open store and engine, at a position at or below the holder's fence, with the views it publishes through (all muted). */
export interface WarmCopy {
  readonly store: CheckpointStore;
  readonly engine: Engine;
  readonly source: FencedSource;
  readonly gate: FencedChangeLog;
  readonly transfers: HeldLog;
}

export type WarmState = 'restoring' | 'waiting' | 'following';

/** What the standby's copy is doing, for stats and logs. */
export interface WarmStats {
  state: WarmState;
  /** the copy's applied position, and the holder's fence it follows (as last read). */
  position: number;
  fence: number;
  /** snapshots restored while waiting (none at takeover), the last one's position and bytes, and how long it took (ms). */
  restores: number;
  restoredPosition: number;
  restoredBytes: number;
  restoreMs: number;
  /** records applied muted while waiting. */
  applied: number;
}

export interface WarmStandbyOptions {
  /** the set's store on this machine (not open elsewhere). */
  readonly path: string;
  /** `worker.<set>`: its lease, snapshot and position name. */
  readonly name: string;
  readonly set: PartitionSet;
  readonly partitionCount: number;
  readonly plans: ReadonlyMap<string, Plan>;
  readonly engine?: Pick<EngineOptions, 'tickMs' | 'maxBatch' | 'history' | 'historyRetention' | 'backoff' | 'onPause' | 'probe'>;
  readonly bucket: SnapshotBucket;
  readonly resolved: AppendLog;
  readonly changeLog: AppendLog;
  /** how often the fence is read while the copy waits at it (default 250 ms). */
  readonly pollMs?: number;
  /** a snapshot this many positions ahead of the copy is restored rather than replayed (default 200,000). */
  readonly restoreGap?: number;
  /** the copy's own checkpoints: at least this often (default 2000 ms) or after this many records (default 20,000). */
  readonly checkpointMs?: number;
  readonly checkpointRecords?: number;
  readonly onChange?: (stats: Readonly<WarmStats>) => void;
  readonly onError?: (error: unknown) => void;
}

/** The limit a record of the worker's input needs the fence at: its position, or a prepare's event. */
function needs(e: LoggedEvent): number {
  return e.resolved?.kind === 'prepare' ? Math.max(e.seq, e.resolved.event) : e.seq;
}

export class WarmStandby {
  readonly stats: WarmStats = { state: 'restoring', position: 0, fence: 0, restores: 0, restoredPosition: 0, restoredBytes: 0, restoreMs: 0, applied: 0 };
  readonly #o: WarmStandbyOptions;

  constructor(options: WarmStandbyOptions) {
    this.#o = options;
  }

  #enter(state: WarmState): void {
    this.stats.state = state;
    this.#o.onChange?.(this.stats);
  }

  /**
   * Keeps the set warm until `stop` aborts (the lease is this process's, or it stops); then hands
   * the copy over, open — or undefined when there is none (the takeover then restores and replays as
   * a cold standby does). `signal` (the process's stop) cuts a download short; `stop` alone lets a
   * download in progress finish: the takeover would download the same snapshot again.
   */
  async keep(stop: AbortSignal, signal: AbortSignal): Promise<WarmCopy | undefined> {
    for (let failures = 0; !stop.aborted; ) {
      let copy: WarmCopy | undefined;
      try {
        await this.#restoreIfAhead(0, signal);
        if (stop.aborted) return undefined;
        // (a store past the fence may hold changes nobody published: opened by the takeover, not muted here)
        let local = (await storedCheckpoint(this.#o.path))?.position ?? 0;
        this.#enter('waiting');
        while (!stop.aborted && (this.stats.fence = (await readFence(this.#o.resolved, this.#o.name)).position) < local) {
          await sleep(this.#o.pollMs ?? 250, stop);
          if (!stop.aborted && (await this.#restoreIfAhead(0, signal))) local = (await storedCheckpoint(this.#o.path))?.position ?? 0;
        }
        if (stop.aborted) return undefined;
        copy = await this.#open();
        failures = 0;
        if ((await this.#follow(copy, stop)) === 'stopped') {
          if (stop.aborted) return copy;
          throw new Error(`the tail of the resolved log ended while ${this.#o.name} was kept warm`);
        }
        // (far behind the newest snapshot: that snapshot, not the replay of the gap)
        await copy.store.close();
        copy = undefined;
      } catch (error) {
        await copy?.store.close().catch(() => {});
        copy = undefined;
        if (stop.aborted) return undefined;
        this.#o.onError?.(error);
        await sleep(backoffDelay(failures++, Math.random()), stop);
      }
    }
    return undefined;
  }

  /** Restores the set's snapshot when it is more than `gap` positions ahead of the store (or there is no store); whether it did. */
  async #restoreIfAhead(gap: number, signal: AbortSignal): Promise<boolean> {
    const o = this.#o;
    removeSnapshotLeftovers(o.path);
    const local = await storedCheckpoint(o.path);
    const stored = await snapshotInfo(o.bucket, o.name);
    if (stored === undefined || (local !== undefined && stored.position <= local.position + gap)) return false;
    this.#enter('restoring');
    const started = performance.now();
    const restored = await restoreSnapshot(o.bucket, o.name, o.path, signal).catch((error: unknown) => {
      if (signal.aborted) return undefined;
      throw error;
    });
    if (restored === undefined) return false;
    this.stats.restores++;
    this.stats.restoredPosition = restored.position;
    this.stats.restoredBytes = restored.bytes;
    this.stats.restoreMs = performance.now() - started;
    this.stats.position = restored.position;
    this.#enter('waiting');
    return true;
  }

  async #open(): Promise<WarmCopy> {
    const o = this.#o;
    const store = CheckpointStore.open(o.path);
    try {
      const source = new FencedSource(o.resolved, o.set.partitions, o.partitionCount, o.changeLog, 1000, false);
      // (its outbox holds changes of positions at or below the fence: published)
      const gate = new FencedChangeLog(o.changeLog, true, new Set(), o.partitionCount);
      const transfers = new HeldLog(o.resolved);
      const engine = await Engine.open({
        ...o.engine,
        eventLog: source,
        changeLog: gate,
        store,
        plans: o.plans,
        resolver: new DirectResolver(),
        transfers,
        time: 'event',
        partitions: o.partitionCount,
        consumer: o.name,
      });
      this.stats.position = engine.position;
      return { store, engine, source, gate, transfers };
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  /** Applies the log to the copy, up to the fence, until `stop` ('stopped') or the newest snapshot is far ahead ('behind'). */
  async #follow(copy: WarmCopy, stop: AbortSignal): Promise<'stopped' | 'behind'> {
    const o = this.#o;
    const { engine, source } = copy;
    const pollMs = o.pollMs ?? 250;
    const gap = o.restoreGap ?? 200_000;
    let fence = this.stats.fence;
    let checkpointed = { at: performance.now(), applied: this.stats.applied };
    let snapshotChecked = performance.now();
    const checkpointIfDue = async () => {
      if (this.stats.applied === checkpointed.applied) return;
      if (performance.now() - checkpointed.at < (o.checkpointMs ?? 2000) && this.stats.applied - checkpointed.applied < (o.checkpointRecords ?? 20_000)) return;
      await engine.checkpoint();
      checkpointed = { at: performance.now(), applied: this.stats.applied };
      this.stats.position = engine.position;
      o.onChange?.(this.stats);
    };
    const behind = async () => {
      if (performance.now() - snapshotChecked < 5000) return false;
      snapshotChecked = performance.now();
      const stored = await snapshotInfo(o.bucket, o.name);
      return stored !== undefined && stored.position > engine.position + gap;
    };
    this.#enter('following');
    const iterator = source.tail(engine.position + 1, { maxBatch: o.engine?.maxBatch ?? 2000, signal: stop })[Symbol.asyncIterator]();
    try {
      while (!stop.aborted) {
        const r = await iterator.next();
        if (r.done === true) break;
        const batch = r.value;
        for (let i = 0; i < batch.length && !stop.aborted; ) {
          let j = i;
          while (j < batch.length && needs(batch[j]!) <= fence) j++;
          if (j === i) {
            // at the fence: wait for the holder to commit further
            await checkpointIfDue();
            await sleep(pollMs, stop);
            if (stop.aborted) break;
            fence = this.stats.fence = Math.max(fence, (await readFence(o.resolved, o.name)).position);
            if (await behind()) return 'behind';
            continue;
          }
          for (let k = i; k < j && !stop.aborted; k += REPLAY_SLICE) {
            const slice = batch.slice(k, Math.min(j, k + REPLAY_SLICE));
            engine.process(slice);
            this.stats.applied += slice.length;
            // (the lease this process waits for is polled on this event loop)
            await new Promise((resolve) => setImmediate(resolve));
          }
          // (held: the holder published them)
          await engine.publishHandovers();
          this.stats.position = engine.position;
          i = j;
          await checkpointIfDue();
          if (await behind()) return 'behind';
        }
      }
    } finally {
      await iterator.return?.();
    }
    return 'stopped';
  }
}

/**
 * The resolved log as a warm standby's engine publishes state transfers to it: held back (dropped)
 * until `release` — what it would publish the holder has published — then appended as a holder's.
 */
export class HeldLog extends AppendLogView {
  #held = true;
  /** records dropped while held. */
  dropped = 0;

  release(): void {
    this.#held = false;
  }

  append(records: readonly LogRecord[]): Promise<AppendResult> {
    if (!this.#held) return this.log.append(records);
    this.dropped += records.length;
    return Promise.resolve({ seqs: records.map(() => 0), duplicates: records.length });
  }
}
