/**
 * One worker process's life for a fixed partition set (`--role worker`): it decides when this
 * process computes the set's partitions — only while it holds the set's lease — and from what state.
 *
 * standby (waits for the lease `worker.<set>`) → restore: the set's snapshot when it is ahead of the
 * local store, or there is no local store (a fresh machine) → replay, muted, to the fence the
 * previous holder committed (replay-fence.ts) → active: the worker engine runs on the resolved log,
 * a snapshot is uploaded every `snapshotMs` or `snapshotEvents` events, the lease is renewed → the
 * lease lost: the engine stops (its last checkpoint is local; the next holder replays from a
 * snapshot) and the process is a standby again. Stopping (`signal`): the engine's last checkpoint, a
 * last snapshot, the lease released — a standby takes over at once.
 *
 * Nothing a worker holds is needed elsewhere: its store is rebuilt from the newest snapshot and the
 * resolved log, and its change ids are the same whoever computes them.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { DefinitionRegistry } from '../definitions/registry.ts';
import { Engine, type EngineOptions } from '../engine.ts';
import { DirectResolver } from '../identity/resolver.ts';
import type { AppendLog } from '../log/append-log.ts';
import { CHANGE_LOG, openAppendLog, type LogLocation } from '../log/open-event-log.ts';
import { backoffDelay, sleep } from '../log/retry.ts';
import type { Plan } from '../plan/plan.ts';
import { CheckpointStore } from '../store/checkpoint-store.ts';
import { Lease, openLeaseBucket } from './lease.ts';
import { parsePartitionSet, type PartitionSet } from './partition-set.ts';
import { partitionAnswers, serveQueries, type QueryResponder } from './query-responder.ts';
import { partitionQuerySubject } from './read-queries.ts';
import { FencedChangeLog, FencedSource, publishedSince, readFence, replayToFence } from './replay-fence.ts';
import { RESOLVED_LOG, resolvedPartition } from './resolved-records.ts';
import { openSnapshotBucket, removeSnapshotLeftovers, restoreSnapshot, snapshotInfo, storedCheckpoint, takeSnapshot, type SnapshotBucket } from './snapshot.ts';

export interface WorkerNodeOptions {
  /** NATS servers (comma-separated): the resolved log, the lease bucket, the snapshot bucket. */
  readonly natsUrl: string;
  /**
   * this machine's directory: the set's store (`<dataDir>/worker/<set>`, so a store is never taken
   * for another set's, and several sets' processes can share a directory), copies of it beside it.
   */
  readonly dataDir: string;
  /** the partitions this process contends for, e.g. `0-7` (partition-set.ts). */
  readonly partitions: string;
  /** the resolved log's partition count (the identity stage's; default 16). */
  readonly partitionCount?: number;
  readonly plans: ReadonlyMap<string, Plan>;
  /**
   * the definitions of `plans` as registered: with them, the node answers the API role's reads of
   * its partitions (`flock.query.partition.<p>`, query-responder.ts) while it computes them.
   */
  readonly registry?: Pick<DefinitionRegistry, 'served'>;
  /** the change log (default: FLOCK_CHANGES on `natsUrl`, opened and closed here). */
  readonly changeLog?: AppendLog;
  readonly resolvedLog?: LogLocation;
  /** this process in the lease (default `<hostname>:<pid>`). */
  readonly holder?: string;
  /** how long a standby waits for the holder's renewal before it takes over (default 5000 ms). */
  readonly leaseTtlMs?: number;
  /** a snapshot at least this often (default 30 s: a takeover replays what came since the newest) … */
  readonly snapshotMs?: number;
  /** … or after this many events (default 200,000). */
  readonly snapshotEvents?: number;
  /** copies of the lease and snapshot buckets on a NATS cluster (default: the server's, 1). */
  readonly replicas?: number;
  /** the worker engine's tuning (it always runs on event time: the identity stage decides every instant). */
  readonly engine?: Pick<EngineOptions, 'tickMs' | 'checkpointEvents' | 'checkpointMs' | 'catchUpCheckpointEvents' | 'maxBatch' | 'history' | 'historyRetention' | 'backoff' | 'onPause' | 'probe'>;
  /** told at every change of state (and of what `stats` shows then). */
  readonly onState?: (stats: Readonly<WorkerNodeStats>) => void;
  /** failures the node rides out (a snapshot upload, a bucket read, an engine failure that hands the set on): for logs. */
  readonly onError?: (error: unknown) => void;
}

export type WorkerNodeState = 'starting' | 'standby' | 'restoring' | 'replaying' | 'active' | 'stopped';

export interface WorkerNodeStats {
  state: WorkerNodeState;
  /** the set's name (`0-7`). */
  readonly set: string;
  readonly holder: string;
  /** times this process acquired the set's lease, and lost it (taken, deleted, or expired: not renewed in time). */
  takeovers: number;
  leasesLost: number;
  /** the snapshot the last acquisition restored (null: the local store was as far, or none existed). */
  restored: { position: number; bytes: number } | null;
  /** the position the last acquisition replayed to muted (0: none). */
  fence: number;
  /** change-log records left out below the fence, and changes left out past it (already published by the previous holder). */
  mutedRecords: number;
  skippedChanges: number;
  /** why the engine is paused, retrying a log or store operation (engine.ts `PauseReason`), or null. */
  paused: string | null;
  /** the event the set's input holds back until states from other workers come (position, the profiles), if one does. */
  waiting: { readonly seq: number; readonly states: readonly string[] } | undefined;
  /** the engine's applied position, and the position its checkpoints have committed and published through. */
  position: number;
  checkpointed: number;
  eventsIn: number;
  /** snapshots this process uploaded, the position of the last one, and how long it took (copy and upload, ms). */
  snapshots: number;
  snapshotPosition: number;
  snapshotMs: number;
  /**
   * the last acquisition's steps (ms): the snapshot's download and check (0: none restored), opening
   * the store and the engine (every profile's timer) with the fence read, the muted replay to the fence.
   */
  timings: { restore: number; open: number; replay: number };
}

/** Runs a worker node until `signal` aborts (the CLI's `--role worker`). */
export function runWorkerNode(options: WorkerNodeOptions, signal: AbortSignal): Promise<void> {
  return new WorkerNode(options).run(signal);
}

export class WorkerNode {
  readonly stats: WorkerNodeStats;
  readonly #o: WorkerNodeOptions;
  readonly #set: PartitionSet;
  readonly #count: number;

  constructor(options: WorkerNodeOptions) {
    this.#o = options;
    this.#count = options.partitionCount ?? 16;
    this.#set = parsePartitionSet(options.partitions, this.#count);
    this.stats = {
      state: 'starting',
      set: this.#set.name,
      holder: options.holder ?? `${hostname()}:${process.pid}`,
      takeovers: 0,
      leasesLost: 0,
      restored: null,
      fence: 0,
      mutedRecords: 0,
      skippedChanges: 0,
      paused: null,
      waiting: undefined,
      position: 0,
      checkpointed: 0,
      eventsIn: 0,
      snapshots: 0,
      snapshotPosition: 0,
      snapshotMs: 0,
      timings: { restore: 0, open: 0, replay: 0 },
    };
  }

  /** the set's store on this machine. */
  get storePath(): string {
    return join(this.#o.dataDir, 'worker', this.#set.name);
  }

  /** the set's name in the lease bucket, the snapshot bucket and the resolved log's positions. */
  get #name(): string {
    return `worker.${this.#set.name}`;
  }

  #enter(state: WorkerNodeState): void {
    this.stats.state = state;
    this.#o.onState?.(this.stats);
  }

  async run(signal: AbortSignal): Promise<void> {
    const o = this.#o;
    const opened: Array<{ close(): Promise<void> }> = [];
    let nc: NatsConnection | undefined;
    try {
      nc = await connect({
        servers: o.natsUrl.split(',').map((url) => url.trim()).filter((url) => url !== ''),
        name: `flock worker ${this.#set.name}`,
        noAsyncTraces: true,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      });
      const buckets = o.replicas === undefined ? {} : { replicas: o.replicas };
      const kv = await openLeaseBucket(nc, buckets);
      const bucket = await openSnapshotBucket(nc, buckets);
      const resolved = await openAppendLog({ dataDir: o.dataDir, natsUrl: o.natsUrl, log: o.resolvedLog ?? RESOLVED_LOG });
      opened.push(resolved);
      let changeLog = o.changeLog;
      if (changeLog === undefined) opened.push((changeLog = await openAppendLog({ dataDir: o.dataDir, natsUrl: o.natsUrl, log: CHANGE_LOG })));
      for (let failures = 0; !signal.aborted; ) {
        this.#enter('standby');
        const onLost = () => {
          this.stats.leasesLost++;
          o.onState?.(this.stats);
        };
        const lease = await Lease.acquire({ kv, name: this.#name, holder: this.stats.holder, ttlMs: o.leaseTtlMs ?? 5000, onLost, ...(o.onError === undefined ? {} : { onError: o.onError }) }, signal);
        if (lease === undefined) break;
        this.stats.takeovers++;
        let failure: { error: unknown } | undefined;
        try {
          await this.#serve(nc, lease, bucket, resolved, changeLog, signal);
        } catch (error) {
          failure = { error };
        }
        // (released at once: a standby takes over without waiting out the TTL)
        if (lease.held) await lease.release().catch((error: unknown) => o.onError?.(error));
        if (failure === undefined) failures = 0;
        else {
          // a worker that cannot compute the set (its engine failed) hands it on, and contends again after a while
          o.onError?.(failure.error);
          await sleep(backoffDelay(failures++, Math.random()), signal);
        }
      }
    } finally {
      for (const log of opened.reverse()) await log.close();
      await nc?.close();
      this.#enter('stopped');
    }
  }

  /** Computes the set while the lease holds and `signal` has not aborted. */
  async #serve(nc: NatsConnection, lease: Lease, bucket: SnapshotBucket, resolved: AppendLog, changeLog: AppendLog, signal: AbortSignal): Promise<void> {
    const o = this.#o;
    const stop = AbortSignal.any([signal, lease.signal]);
    const path = this.storePath;
    this.#enter('restoring');
    const timings = (this.stats.timings = { restore: 0, open: 0, replay: 0 });
    let step = performance.now();
    removeSnapshotLeftovers(path);
    const local = await storedCheckpoint(path);
    const stored = await snapshotInfo(bucket, this.#name);
    this.stats.restored = null;
    if (stored !== undefined && (local === undefined || stored.position > local.position)) {
      // (a download the lease's loss or a stop cut short is no failure: the set is not ours to restore any more)
      const restored = await restoreSnapshot(bucket, this.#name, path, stop).catch((error: unknown) => {
        if (stop.aborted) return undefined;
        throw error;
      });
      if (stop.aborted) return;
      if (restored !== undefined) this.stats.restored = { position: restored.position, bytes: restored.bytes };
    }
    timings.restore = performance.now() - step;
    if (stop.aborted) return;
    step = performance.now();
    const store = CheckpointStore.open(path);
    let queries: QueryResponder | undefined;
    try {
      // (the previous holder is gone: none of its changes is of a position after the log's end now)
      const resolvedEnd = await resolved.lastSeq();
      const fence = await readFence(resolved, this.#name);
      const published = fence.position > 0 ? await publishedSince(changeLog, fence.changeLogEnd) : new Set<string>();
      // (the store's outbox holds changes of positions up to its own: at or below the fence, already published)
      const gate = new FencedChangeLog(changeLog, fence.position > 0 && store.meta().position <= fence.position, published, this.#count);
      this.stats.fence = gate.muted ? fence.position : 0;
      const source = new FencedSource(resolved, this.#set.partitions, this.#count, changeLog);
      const engine = await Engine.open({
        ...o.engine,
        eventLog: source,
        changeLog: gate,
        store,
        plans: o.plans,
        resolver: new DirectResolver(),
        transfers: resolved,
        time: 'event',
        partitions: this.#count,
        consumer: this.#name,
        // (a pause is ridden out by retrying; the node's owner hears why, as it happens)
        onPause: (reason, error) => {
          o.engine?.onPause?.(reason, error);
          this.stats.paused = reason;
          if (reason !== null) o.onError?.(error);
        },
      });
      timings.open = performance.now() - step;
      step = performance.now();
      this.#enter('replaying');
      // (progress while it replays: a replay that stops moving waits for a state from another worker)
      const watch = setInterval(() => this.#observe(engine, source), 1000);
      try {
        if (gate.muted) await replayToFence(engine, source, fence.position, stop, o.engine?.maxBatch);
      } finally {
        clearInterval(watch);
      }
      timings.replay = performance.now() - step;
      gate.open();
      this.stats.mutedRecords = gate.dropped;
      this.#observe(engine, source);
      if (stop.aborted) return;
      // (reads of the partitions are answered from here on: the store holds what the previous holder published)
      if (o.registry !== undefined) queries = await serveQueries(nc, [...this.#set.partitions].map(partitionQuerySubject), partitionAnswers(store, o.registry, resolved, { name: this.#set.name, owns: (id) => this.#set.partitions.has(resolvedPartition(id, this.#count)) }), o.onError);
      this.#enter('active');
      await this.#runActive(engine, source, store, bucket, lease, stop, gate, resolvedEnd);
      // a clean stop: the newest state for whoever comes next
      if (signal.aborted && lease.held) await this.#snapshot(store, bucket);
    } finally {
      // (no read of the store once it closes: the next holder answers)
      await queries?.stop();
      await store.close();
    }
  }

  /** Runs the engine until `stop`, snapshotting when due; an engine failure ends it. */
  async #runActive(engine: Engine, source: FencedSource, store: CheckpointStore, bucket: SnapshotBucket, lease: Lease, stop: AbortSignal, gate: FencedChangeLog, resolvedEnd: number): Promise<void> {
    const o = this.#o;
    const every = o.snapshotMs ?? 30_000;
    const events = o.snapshotEvents ?? 200_000;
    // (a check reads the store's meta: cheap)
    const check = Math.max(20, Math.min(250, every / 4));
    const running = engine.run(stop).then(() => 'done' as const);
    // (a failure while a snapshot is being taken is taken up by the next race, not unhandled meanwhile)
    running.catch(() => {});
    let last = { at: performance.now(), events: engine.stats.eventsIn };
    for (;;) {
      const r = await Promise.race([running, sleep(check, stop).then(() => 'check' as const)]);
      this.#observe(engine, source);
      this.stats.skippedChanges = gate.skipped;
      // (past every position the previous holder could have published: nothing more of its to meet)
      if (gate.published.size > 0 && engine.stats.position >= resolvedEnd) gate.published.clear();
      if (r === 'done') return;
      if (stop.aborted) continue;
      const due = performance.now() - last.at >= every || engine.stats.eventsIn - last.events >= events;
      if (!due || !lease.held || this.stats.checkpointed <= this.stats.snapshotPosition) continue;
      last = { at: performance.now(), events: engine.stats.eventsIn };
      await this.#snapshot(store, bucket);
    }
  }

  async #snapshot(store: CheckpointStore, bucket: SnapshotBucket): Promise<void> {
    try {
      const started = performance.now();
      const taken = await takeSnapshot(store, bucket, this.#name);
      if (taken === undefined) return;
      this.stats.snapshots++;
      this.stats.snapshotPosition = taken.position;
      this.stats.snapshotMs = performance.now() - started;
      this.#o.onState?.(this.stats);
    } catch (error) {
      // (a snapshot is an optimisation of the takeover: the next one tries again)
      this.#o.onError?.(error);
    }
  }

  #observe(engine: Engine, source: FencedSource): void {
    this.stats.waiting = source.waiting;
    this.stats.position = engine.position;
    this.stats.checkpointed = engine.stats.position;
    this.stats.eventsIn = engine.stats.eventsIn;
  }
}
