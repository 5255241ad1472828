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
import { Engine, type EngineOptions, type PauseReason } from '../engine.ts';
import { DirectResolver } from '../identity/resolver.ts';
import type { AppendLog } from '../log/append-log.ts';
import { CHANGE_LOG, openAppendLog, type LogLocation } from '../log/open-event-log.ts';
import { backoffDelay, sleep } from '../log/retry.ts';
import type { Plan } from '../plan/plan.ts';
import { CheckpointStore } from '../store/checkpoint-store.ts';
import { CheckpointWriter } from '../store/checkpoint-writer.ts';
import { Lease, openLeaseBucket } from './lease.ts';
import { parsePartitionSet, type PartitionSet } from './partition-set.ts';
import { partitionAnswers, serveQueries, type QueryResponder } from './query-responder.ts';
import { partitionQuerySubject } from './read-queries.ts';
import { FencedChangeLog, FencedSource, publishedSince, readFence, replayToFence } from './replay-fence.ts';
import { RESOLVED_LOG, resolvedPartition } from './resolved-records.ts';
import { openSnapshotBucket, removeSnapshotLeftovers, restoreSnapshot, snapshotInfo, storedCheckpoint, takeSnapshot, type SnapshotBucket } from './snapshot.ts';
import { WarmStandby, type WarmCopy, type WarmStats } from './warm-standby.ts';

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
  /**
   * a standby keeps the set warm while it waits (warm-standby.ts, default false: `--standby warm`): the newest snapshot
   * restored into its store and the resolved log applied muted up to the holder's fence, so a
   * takeover downloads nothing and replays only what the holder committed since the standby's last
   * read of its fence. It costs a standby what the holder costs: the set's store on its disk, an
   * engine's memory, the log read twice. False: a cold standby (it restores and replays at takeover).
   */
  readonly warm?: boolean;
  /**
   * where the holder's checkpoints are committed (default `inline`: in the engine's thread). `thread`:
   * a writer thread of their own (store/checkpoint-writer.ts), so the event loop that renews the
   * lease only hands a checkpoint over — at 1M profiles an inline commit stalled it for seconds
   * (docs/scale.md §6). A takeover from a warm copy keeps the copy's engine, inline.
   */
  readonly checkpointWriter?: 'inline' | 'thread';
  /**
   * whether the node contends for the lease (default true). A node that does not keeps the set warm
   * only, until `contend()` (worker-group.ts: the worker ranked next for a set keeps it warm).
   */
  readonly contend?: boolean;
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
  /** the snapshot the last acquisition restored — at takeover, or while it waited as a warm standby (null: its store was as far, or none existed). */
  restored: { position: number; bytes: number } | null;
  /** what the last acquisition started from: its warm copy (no download), a snapshot it downloaded then, or its store as it was. */
  startedFrom: 'warm' | 'snapshot' | 'store' | null;
  /** the position the last acquisition started from (its store's, the snapshot's or the warm copy's), before its muted replay. */
  startPosition: number;
  /** where the engine of the last acquisition commits its checkpoints (`checkpointWriter`; a warm copy's engine: inline). */
  writer: 'inline' | 'thread';
  /** the standby's warm copy while it waits (null: a cold standby, or holding the lease). */
  warm: WarmStats | null;
  /** the position the last acquisition replayed to muted (0: none). */
  fence: number;
  /** change-log records left out below the fence, and changes left out past it (already published by the previous holder). */
  mutedRecords: number;
  skippedChanges: number;
  /** why the engine is paused, retrying a log or store operation (engine.ts `PauseReason`), or null. */
  paused: PauseReason | null;
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
    this.#contend = options.contend ?? true;
    this.stats = {
      state: 'starting',
      set: this.#set.name,
      holder: options.holder ?? `${hostname()}:${process.pid}`,
      takeovers: 0,
      leasesLost: 0,
      restored: null,
      startedFrom: null,
      startPosition: 0,
      warm: null,
      writer: 'inline',
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
    let leaseConnection: NatsConnection | undefined;
    try {
      const open = (purpose: string) =>
        connect({
          servers: o.natsUrl.split(',').map((url) => url.trim()).filter((url) => url !== ''),
          name: `flock worker ${this.#set.name}${purpose}`,
          noAsyncTraces: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 250,
        });
      nc = await open('');
      // The lease on a connection of its own: a snapshot's upload or download (gigabytes in 1 MiB
      // chunks) queues on its connection, and a renewal behind it can time out until the lease
      // expires (bench:takeover at 1M: the holder's requests timed out, and it lost its set, while
      // its snapshot went up).
      leaseConnection = await open(' lease');
      const buckets = o.replicas === undefined ? {} : { replicas: o.replicas };
      const kv = await openLeaseBucket(leaseConnection, buckets);
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
        // (kept warm while the lease is waited for: stopped, and handed over open, once it is taken)
        const waiting = new AbortController();
        const warming = o.warm !== true ? undefined : this.#keepWarm(bucket, resolved, changeLog, AbortSignal.any([signal, waiting.signal]), signal);
        let lease: Lease | undefined;
        let copy: WarmCopy | undefined;
        let waited: WarmStats | null = null;
        try {
          await this.#contending(signal);
          lease = signal.aborted ? undefined : await Lease.acquire({ kv, name: this.#name, holder: this.stats.holder, ttlMs: o.leaseTtlMs ?? 5000, onLost, ...(o.onError === undefined ? {} : { onError: o.onError }) }, signal);
        } finally {
          waiting.abort();
          copy = await warming;
          waited = this.stats.warm;
          this.stats.warm = null;
          // (no lease after all, or its wait failed: the copy's store is closed — its checkpoints are kept)
          if (lease === undefined) await copy?.store.close();
        }
        if (lease === undefined) break;
        this.stats.takeovers++;
        let failure: { error: unknown } | undefined;
        try {
          const restoredWaiting = waited !== null && waited.restores > 0 ? { position: waited.restoredPosition, bytes: waited.restoredBytes } : null;
          await this.#serve(nc, lease, bucket, resolved, changeLog, signal, copy, restoredWaiting);
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
      await leaseConnection?.close();
      this.#enter('stopped');
    }
  }

  /** Resolves once this node may contend for the lease (`contend()`), or `signal` aborted. */
  #contending(signal: AbortSignal): Promise<void> {
    if (this.#contend) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  #contend: boolean;
  #wake: (() => void) | undefined;

  /** An engine's pause (engine.ts: retrying a log or store operation): in the stats, and told to the node's owner as it happens. */
  readonly #onPause = (reason: PauseReason | null, error?: unknown): void => {
    this.#o.engine?.onPause?.(reason, error);
    this.stats.paused = reason;
    if (reason !== null) this.#o.onError?.(error);
  };

  /** From now on the node contends for the set's lease (a node started with `contend: false`). */
  contend(): void {
    this.#contend = true;
    this.#wake?.();
  }

  /** The warm copy kept until `stop` (warm-standby.ts); failures are ridden out there. */
  #keepWarm(bucket: SnapshotBucket, resolved: AppendLog, changeLog: AppendLog, stop: AbortSignal, signal: AbortSignal): Promise<WarmCopy | undefined> {
    const o = this.#o;
    const warm = new WarmStandby({
      path: this.storePath,
      name: this.#name,
      set: this.#set,
      partitionCount: this.#count,
      plans: o.plans,
      engine: { ...o.engine, onPause: this.#onPause },
      bucket,
      resolved,
      changeLog,
      onChange: (stats) => {
        this.stats.warm = { ...stats };
        o.onState?.(this.stats);
      },
      ...(o.onError === undefined ? {} : { onError: o.onError }),
    });
    this.stats.warm = { ...warm.stats };
    return warm.keep(stop, signal).catch((error: unknown) => {
      o.onError?.(error);
      return undefined;
    });
  }

  /** Computes the set while the lease holds and `signal` has not aborted — from `warm` when the standby kept a copy. */
  async #serve(nc: NatsConnection, lease: Lease, bucket: SnapshotBucket, resolved: AppendLog, changeLog: AppendLog, signal: AbortSignal, warm?: WarmCopy, restoredWaiting: { position: number; bytes: number } | null = null): Promise<void> {
    const o = this.#o;
    const stop = AbortSignal.any([signal, lease.signal]);
    const path = this.storePath;
    this.#enter('restoring');
    const timings = (this.stats.timings = { restore: 0, open: 0, replay: 0 });
    let step = performance.now();
    this.stats.restored = restoredWaiting;
    // (a warm copy is newer than any snapshot it saw, and open: nothing to restore)
    if (warm === undefined) removeSnapshotLeftovers(path);
    const local = warm === undefined ? await storedCheckpoint(path) : undefined;
    const stored = warm === undefined ? await snapshotInfo(bucket, this.#name) : undefined;
    if (stored !== undefined && (local === undefined || stored.position > local.position)) {
      // (a download the lease's loss or a stop cut short is no failure: the set is not ours to restore any more)
      const restored = await restoreSnapshot(bucket, this.#name, path, stop).catch((error: unknown) => {
        if (stop.aborted) return undefined;
        throw error;
      });
      if (stop.aborted) return;
      if (restored !== undefined) this.stats.restored = { position: restored.position, bytes: restored.bytes };
    }
    this.stats.startedFrom = warm !== undefined ? 'warm' : this.stats.restored === null ? 'store' : 'snapshot';
    timings.restore = performance.now() - step;
    if (stop.aborted) {
      await warm?.store.close();
      return;
    }
    step = performance.now();
    const store = warm?.store ?? CheckpointStore.open(path);
    let queries: QueryResponder | undefined;
    let writer: CheckpointWriter | undefined;
    try {
      // (the previous holder is gone: none of its changes is of a position after the log's end now)
      const resolvedEnd = await resolved.lastSeq();
      const fence = await readFence(resolved, this.#name);
      const published = fence.position > 0 ? await publishedSince(changeLog, fence.changeLogEnd) : new Set<string>();
      let gate: FencedChangeLog, source: FencedSource, engine: Engine;
      if (warm === undefined) {
        // (the store's outbox holds changes of positions up to its own: at or below the fence, already published)
        gate = new FencedChangeLog(changeLog, fence.position > 0 && store.meta().position <= fence.position, published, this.#count);
        source = new FencedSource(resolved, this.#set.partitions, this.#count, changeLog);
        if (o.checkpointWriter === 'thread') writer = await CheckpointWriter.start({ path, minFreeBytes: 0 });
        engine = await Engine.open({
          ...o.engine,
          ...(writer === undefined ? {} : { writer }),
          eventLog: source,
          changeLog: gate,
          store,
          plans: o.plans,
          resolver: new DirectResolver(),
          transfers: resolved,
          time: 'event',
          partitions: this.#count,
          consumer: this.#name,
          onPause: this.#onPause,
        });
      } else {
        // The copy is at a position at or below a fence it read (all published, muted still): it replays
        // muted to this one, and its run leaves out what the dead holder published past the mark — as
        // a restored snapshot would, only from a later position. From here on it commits and publishes.
        ({ gate, source, engine } = warm);
        for (const id of published) gate.published.add(id);
        gate.dropped = 0;
        source.startCommitting();
        warm.transfers.release();
      }
      this.stats.fence = gate.muted ? fence.position : 0;
      this.stats.startPosition = engine.position;
      this.stats.writer = writer === undefined ? 'inline' : 'thread';
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
      await writer?.close();
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
