/** The engine service: event log → identity → runtime → outbox → LMDB checkpoint → change log, with restart recovery. */
import { Subject } from 'rxjs';
import type { AppendLog, LogRecord } from './log/append-log.ts';
import type { EventLog, LoggedEvent } from './log/event-log.ts';
import { fnv1a32 } from './log/partition.ts';
import type { IdentityResolver } from './identity/resolver.ts';
import type { Plan } from './plan/plan.ts';
import { Runtime } from './runtime/runtime.ts';
import { changeId, RUN_TAG, type Change } from './runtime/change.ts';
import { plainProfileWrite, type CheckpointSink, type CheckpointStore, type PlainCheckpoint } from './store/checkpoint-store.ts';
import { isStorageFull } from './store/storage-guard.ts';
import { resolveProfiles, type SkippedEvent } from './pipeline/resolve-profiles.ts';
import { evaluateBatch, type EvaluatedBatch } from './pipeline/evaluate-batch.ts';
import { applyResolved } from './pipeline/apply-resolved.ts';
import { resolvedPartition } from './cluster/resolved-records.ts';
import type { ResolvedSource } from './cluster/resolved-source.ts';
import { HistoryCollector, type BackfilledVersion, type HistoryRetention } from './history/history-writes.ts';
import { backoffDelay, isTransientLogError, retrying, RetryAbortedError, sleep, type BackoffPolicy } from './log/retry.ts';

export interface EngineOptions {
  readonly eventLog: EventLog;
  readonly changeLog: AppendLog;
  readonly store: CheckpointStore;
  /**
   * where checkpoints are committed (default: `store`, in this thread). A `CheckpointWriter` commits
   * them in its own thread while the engine goes on: up to `checkpointsInFlight` at a time.
   */
  readonly writer?: CheckpointSink;
  /** checkpoints handed to a pipelined writer and not yet confirmed, at most (default 2). */
  readonly checkpointsInFlight?: number;
  readonly plans: ReadonlyMap<string, Plan>;
  /** identity resolution (`IdentityGraph` over `store`): its graph is checkpointed with the profiles. */
  readonly resolver: IdentityResolver;
  /**
   * A partitioned worker: `eventLog` is the resolved log (`ResolvedSource`), whose records the
   * identity stage resolved and timed, and the states other workers need — a profile a merge absorbs
   * into another partition, a user another worker starts shadowing — go through this log (state
   * records appended here). `resolver` is then unused. The worker's partitions are its source's
   * `owned`: it publishes the changes of their profiles and keeps their accounts.
   */
  readonly transfers?: AppendLog;
  /** wall clock; tests pass a virtual one. */
  readonly clock?: () => number;
  /**
   * `wall` (default): live batches are evaluated at the wall clock and idle ticks move the watermark
   * to it. `event`: the watermark follows the log's event time only — every batch is replayed, ticks
   * never move it, the open instant stays open until a later event (a checkpoint saves it as
   * pending) — so the changes are a function of the log's order (the chaos harness compares runs so).
   */
  readonly time?: 'wall' | 'event';
  /** live tick: the longest the watermark waits behind the wall clock with no events (ms). */
  readonly tickMs?: number;
  /** checkpoint after this many events … */
  readonly checkpointEvents?: number;
  /** … or this long after the first uncheckpointed change or applied event (ms). */
  readonly checkpointMs?: number;
  /**
   * checkpoint interval (events) while catching up, when latency does not matter (default: 100,000 in
   * this thread — fewer, larger checkpoints write each busy profile once; 50,000 with a pipelined
   * writer — smaller ones overlap the evaluation of the next events).
   */
  readonly catchUpCheckpointEvents?: number;
  readonly catchUpLagMs?: number;
  readonly maxBatch?: number;
  /** name of the engine's position on the event log. */
  readonly consumer?: string;
  readonly partitions?: number;
  /** called for each event identity resolution skipped (it identifies nobody), with the reason: the service logs it. */
  readonly onSkipped?: (skip: SkippedEvent) => void;
  /**
   * test hook: called at named points of the loop; throwing (or killing the process) there simulates
   * a crash. `FLOCK_FAULT` (service/fault.ts) turns it into a `kill -9` at the n-th time a point is reached.
   */
  readonly probe?: (point: ProbePoint, detail: number) => void;
  /** work interleaved with live batches (backfills): `step` runs between inputs while `pending()`. */
  readonly background?: { step(): Promise<void>; pending(): boolean };
  /** how long history and the per-profile event index are kept (default: forever). */
  readonly historyRetention?: HistoryRetention;
  /** keep membership history and the per-profile event index (default true; benchmarks compare without). */
  readonly history?: boolean;
  /** a sum read by these definitions overflowed the double range (they read it as no value): once per definition. */
  readonly onOverflow?: (space: string, definitions: readonly string[]) => void;
  /** waits between retries of a log (or store) that fails: capped exponential backoff with jitter. */
  readonly backoff?: BackoffPolicy;
  /** told when the engine starts or stops waiting for its logs or its store (to log it once). */
  readonly onPause?: (reason: PauseReason | null, error?: unknown) => void;
}

/**
 * Why the engine waits instead of running: a log unreachable (NATS down), no space to write, or an
 * event log that is not the one the checkpoint was taken on (`log_diverged`: it lost events the engine
 * applied — nats-server data loss, a recreated stream — and only an operator can say what is right).
 */
export type PauseReason = 'log_unreachable' | 'disk_full' | 'log_diverged';
export const PAUSE_REASONS: readonly PauseReason[] = ['log_unreachable', 'disk_full', 'log_diverged'];

/** The event log does not hold what the engine's checkpoint says it applied (see `Engine.run`). */
export class LogDivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogDivergedError';
  }
}

/**
 * Where the probe is called: `applied` after every batch, `catch-up` after a batch applied while
 * catching up, `merge` after a batch that merged profiles, `exits` after a batch or tick in which
 * timers fired (time-driven exits), `committed` after a checkpoint's commit and before its change-log
 * publish, `published` after the publish, `backfill` after each step of a backfill (before its switch).
 */
export type ProbePoint = 'applied' | 'catch-up' | 'merge' | 'exits' | 'committed' | 'published' | 'backfill';

export interface EngineStats {
  eventsIn: number;
  /** events that identified nobody (no identifier, or every one blocked). */
  eventsSkipped: number;
  /** profile merges identity resolution performed. */
  merges: number;
  changesOut: number;
  checkpoints: number;
  lastCheckpointMs: number;
  position: number;
  watermark: number;
  /** values mode/unique traits dropped at their distinct-value cap. */
  droppedValues: number;
  /** reads of a sum beyond the double range, which then has no value. */
  overflowedValues: number;
  /** profiles held in memory. */
  profiles: number;
  /** why the engine is waiting (retrying), or null while it runs. */
  paused: PauseReason | null;
  /** failed attempts retried, by reason. */
  retries: Record<PauseReason, number>;
}

export { decodeChangeRecord, encodeChangeRecords } from './runtime/change-records.ts';

export class Engine {
  readonly runtime: Runtime;
  readonly stats: EngineStats;
  readonly #o: Required<Omit<EngineOptions, 'probe' | 'background' | 'onOverflow' | 'onSkipped' | 'backoff' | 'onPause' | 'writer' | 'transfers'>> & Pick<EngineOptions, 'probe' | 'background' | 'onOverflow' | 'onSkipped' | 'backoff' | 'onPause' | 'writer' | 'transfers'>;
  readonly #input = new Subject<readonly LoggedEvent[]>();
  #outbox: Change[] = [];
  /** a worker: per resolved partition, the order of the last record applied (checkpointed with the position). */
  readonly #applied = new Map<number, number>();
  /** a worker's state transfers (handovers and copies) not yet published (`publishHandovers`). */
  #handovers: LogRecord[] = [];
  /**
   * Checkpoints handed to the writer and not yet confirmed (committed, published, position
   * committed), oldest first; each one's `done` waits for the one before it.
   */
  #inflight: Array<{ readonly input: PlainCheckpoint; readonly done: Promise<void> }> = [];
  /** BATCH definitions (ids): their changes are held for the next run instead of published. */
  #batch: ReadonlySet<string> = new Set();
  /** changes of BATCH definitions since the last checkpoint, and the definitions a run released. */
  #held: Change[] = [];
  #released: Array<readonly [string, string]> = [];
  #published: number;
  #position: number;
  #uncheckpointedEvents = 0;
  #dirtySince = Number.POSITIVE_INFINITY;
  /** the watermark of the last checkpoint: what the APIs read as "computed up to". */
  #checkpointedWatermark: number;
  #failure: unknown = undefined;
  /** replaying the log's past (the watermark follows event time); an engine starts so, until the log proves idle. */
  #catchingUp = true;
  /** the log lost what the checkpoint applied: the engine waits for an operator, and writes nothing more. */
  #diverged = false;
  /** the log id of the event at `#position` (checked against the log at a start). */
  #positionId: string | undefined;
  /** history and event-index writes for the next checkpoint. */
  readonly #history: HistoryCollector;
  /** the running loop's stop signal: retries end with it. */
  #signal: AbortSignal | undefined;

  private constructor(options: EngineOptions) {
    this.#o = {
      clock: Date.now,
      time: 'wall',
      tickMs: 1000,
      checkpointEvents: 10_000,
      checkpointMs: 50,
      catchUpCheckpointEvents: options.writer?.pipelined === true ? 50_000 : 100_000,
      catchUpLagMs: 2000,
      maxBatch: 2000,
      consumer: 'engine',
      partitions: 16,
      historyRetention: { historyMs: 0, eventsMs: 0 },
      history: true,
      checkpointsInFlight: 2,
      ...options,
    };
    this.#history = new HistoryCollector(this.#o.historyRetention);
    const meta = options.store.meta();
    this.#position = meta.position;
    this.#positionId = meta.positionId;
    this.#published = meta.publishedThrough;
    this.#checkpointedWatermark = meta.watermark;
    for (const [partition, order] of Object.entries(meta.sources ?? {})) this.#applied.set(Number(partition), order);
    (options.eventLog as Partial<Pick<ResolvedSource, 'useApplied'>>).useApplied?.(this.#applied);
    const owned = options.transfers === undefined ? undefined : (options.eventLog as Partial<Pick<ResolvedSource, 'owned'>>).owned;
    const partitionCount = this.#o.partitions;
    const owns = owned === undefined ? undefined : (id: string) => owned.has(resolvedPartition(id, partitionCount));
    this.runtime = new Runtime({
      ...(owns === undefined ? {} : { owns }),
      plans: options.plans,
      source: { load: (space, id) => options.store.loadProfile(space, id) },
      onChange: (c) => {
        if (this.#o.history) this.#history.change(c);
        (this.#batch.size !== 0 && this.#batch.has(c.definitionId) ? this.#held : this.#outbox).push(c);
      },
      watermark: meta.watermark,
      ...(options.onOverflow === undefined ? {} : { onOverflow: options.onOverflow }),
    });
    for (const t of options.store.timers()) this.runtime.restoreTimer(t.space, t.id, t.wake);
    for (const p of meta.pending) this.runtime.restorePending(p);
    this.stats = {
      eventsIn: 0,
      eventsSkipped: 0,
      merges: 0,
      changesOut: 0,
      checkpoints: 0,
      lastCheckpointMs: 0,
      position: meta.position,
      watermark: meta.watermark,
      droppedValues: 0,
      overflowedValues: 0,
      profiles: 0,
      paused: null,
      retries: { log_unreachable: 0, disk_full: 0, log_diverged: 0 },
    };
    const evaluated =
      options.transfers === undefined
        ? this.#input.pipe(
            resolveProfiles(options.resolver),
            evaluateBatch(this.runtime, { clock: this.#o.clock, catchUpLagMs: this.#o.catchUpLagMs, eventTime: this.#o.time === 'event' }),
          )
        : this.#input.pipe(applyResolved(this.runtime, (records) => this.#handovers.push(...records), { clock: this.#o.clock, catchUpLagMs: this.#o.catchUpLagMs, partitions: partitionCount, ...(owns === undefined ? {} : { owns }) }, this.#applied));
    evaluated.subscribe({
        next: (b) => this.#afterBatch(b),
        error: (err) => (this.#failure = err),
      });
  }

  /** Restores from the checkpoint and republishes changes committed but not confirmed before a stop or crash. */
  static async open(options: EngineOptions): Promise<Engine> {
    const engine = new Engine(options);
    await engine.#republish();
    return engine;
  }

  get position(): number {
    return this.#position;
  }

  /** Applies one batch of logged events (the run loop calls this; tests may too). */
  process(batch: readonly LoggedEvent[]): void {
    if (batch.length === 0) return;
    const last = batch[batch.length - 1]!;
    if (last.seq >= this.#position) this.#positionId = logId(last);
    const fired = this.runtime.timersFired;
    const merges = this.stats.merges;
    this.#input.next(batch);
    if (this.#failure !== undefined) throw this.#failure;
    const probe = this.#o.probe;
    if (probe === undefined) return;
    probe('applied', this.#position);
    if (this.#catchingUp) probe('catch-up', this.#position);
    if (this.stats.merges > merges) probe('merge', this.#position);
    if (this.runtime.timersFired > fired) probe('exits', this.#position);
  }

  #afterBatch(b: EvaluatedBatch): void {
    this.#catchingUp = b.catchingUp;
    this.#position = Math.max(this.#position, b.lastSeq);
    this.stats.eventsIn += b.events.length;
    this.stats.eventsSkipped += b.skipped;
    if (this.#o.onSkipped !== undefined) for (const skip of b.skips) this.#o.onSkipped(skip);
    this.stats.merges += b.merges.length;
    this.#uncheckpointedEvents += b.events.length + b.skipped;
    if (this.#o.history) this.#history.applied(b);
    this.#noteDirty();
  }

  /** Replaces a space's live plan (between batches: the open instant is closed first). */
  setPlan(space: string, plan: Plan): void {
    this.runtime.setPlan(space, plan);
  }

  /**
   * Records a backfill's history of `version` (its changes at their true instants, the log replayed
   * up to this engine's position, in event-time order up to `orderedThrough`); it is written with the
   * next checkpoint. `replace`: the version was computed before (enabled again) — its old history goes first.
   */
  recordHistory(version: BackfilledVersion, changes: readonly Change[], options: { readonly replace: boolean; readonly orderedThrough?: number }): void {
    if (this.#o.history) this.#history.backfilled(version, changes, this.#position, options.replace, options.orderedThrough ?? 0);
  }

  /** Drops a superseded version's history (from the next checkpoint on, in bounded steps). */
  compactHistory(space: string, definitionId: string, version: number): void {
    this.#history.compact(space, definitionId, version);
  }

  /**
   * Emits changes computed outside the runtime (a version switch's difference, a BATCH run); they go
   * out with the next checkpoint. Account changes get the account's users, as the runtime's do.
   */
  announce(changes: readonly Change[]): void {
    for (const c of changes) this.#outbox.push(c.collection === 'accounts' && c.users === undefined ? { ...c, users: [...(this.runtime.profile(c.space, c.profileId)?.links ?? [])] } : c);
    this.#noteDirty();
  }

  /** The definitions computed on a schedule: their changes are held until `releaseHeld`. */
  setBatchDefinitions(ids: ReadonlySet<string>): void {
    this.#batch = ids;
  }

  /**
   * A BATCH definition's new version went live: what its next run publishes is now `changes` (the
   * difference between the published outputs and the new version), replacing what was held.
   */
  replaceHeld(space: string, definitionId: string, changes: readonly Change[]): void {
    this.#takeHeld(space, definitionId);
    this.#held.push(...changes);
    this.#noteDirty();
  }

  /**
   * A BATCH definition's run at `at`: publishes, as changes at `at`, the difference between what
   * was published and the latest value held per profile since the last run; returns how many.
   */
  releaseHeld(space: string, definitionId: string, at: number): number {
    const info = this.#definitionInfo(space, definitionId);
    if (info === undefined) return 0; // (not in the live plan: its held changes wait)
    const latest = this.#takeHeld(space, definitionId);
    const published = latest.size === 0 ? new Map<string, unknown>() : this.publishedOutputs(space, definitionId);
    const out: Change[] = [];
    for (const profileId of [...latest.keys()].sort()) {
      const { value, version } = latest.get(profileId)!;
      const before = published.get(profileId);
      const base = { space, collection: info.collection, definitionId, version, profileId, at } as const;
      if (info.kind === 'audience') {
        const isIn = value === true;
        if ((before === true) === isIn) continue;
        out.push({ ...base, id: changeId(definitionId, version, profileId, at, isIn ? 'e' : 'x', RUN_TAG), kind: isIn ? 'enter' : 'exit', audienceKey: info.key });
      } else if (!sameValue(before, value)) {
        out.push({ ...base, id: changeId(definitionId, version, profileId, at, 't', RUN_TAG), kind: 'trait', traitKey: info.key, value, previous: before });
      }
    }
    this.announce(out);
    this.#noteDirty();
    return out.length;
  }

  /**
   * The latest held value per profile of a definition (committed rows, unless already released since
   * the checkpoint, then the changes since), removed from the held set.
   */
  #takeHeld(space: string, definitionId: string): Map<string, { value: unknown; version: number }> {
    const latest = new Map<string, { value: unknown; version: number }>();
    const mine = ([s, id]: readonly [string, string]) => s === space && id === definitionId;
    if (!this.#released.some(mine)) {
      // The held rows as the checkpoints in flight leave them: from the last one that released the
      // definition (its rows cleared) or from the store, then each one's held changes. (Whether the
      // store already has an in-flight commit or not, laying it over again gives the same rows.)
      const from = this.#inflight.findLastIndex(({ input }) => input.releasedHeld?.some(mine) === true);
      if (from === -1) for (const row of this.#o.store.heldOutputs(space, definitionId)) latest.set(row.profileId, { value: row.value ?? undefined, version: row.version });
      for (const { input } of this.#inflight.slice(Math.max(0, from))) {
        for (const c of input.held ?? []) if (c.space === space && c.definitionId === definitionId) latest.set(c.profileId, { value: c.kind === 'trait' ? c.value : c.kind === 'enter' ? true : undefined, version: c.version });
      }
      this.#released.push([space, definitionId]);
    }
    const keep: Change[] = [];
    for (const c of this.#held) {
      if (c.space !== space || c.definitionId !== definitionId) keep.push(c);
      else latest.set(c.profileId, { value: c.kind === 'trait' ? c.value : c.kind === 'enter' ? true : undefined, version: c.version });
    }
    this.#held = keep;
    return latest;
  }

  /** Kind, key and collection of a definition of a space's live plan. */
  #definitionInfo(space: string, definitionId: string): { kind: 'audience' | 'trait'; key: string; collection: Change['collection'] } | undefined {
    const d = this.runtime.plan(space).definitions.find((x) => x.input.id === definitionId);
    return d === undefined ? undefined : { kind: d.input.kind, key: d.input.key, collection: d.input.target === 'ACCOUNTS' ? 'accounts' : 'users' };
  }

  /**
   * What consumers have been told of one definition: the checkpoint's published values with the
   * changes emitted since applied over them (profile id → membership `true` or trait value).
   */
  publishedOutputs(space: string, definitionId: string): Map<string, unknown> {
    const out = new Map<string, unknown>();
    for (const row of this.#o.store.allOutputs(space, definitionId)) out.set(row.profileId, row.value);
    // (the changes of checkpoints in flight, then those since: laid over rows that may already hold them)
    for (const c of [...this.#inflight.flatMap(({ input }) => input.changes), ...this.#outbox]) {
      if (c.space !== space || c.definitionId !== definitionId) continue;
      const value = c.kind === 'trait' ? c.value : c.kind === 'enter' ? true : undefined;
      if (value === undefined) out.delete(c.profileId);
      else out.set(c.profileId, value);
    }
    return out;
  }

  /**
   * Moves the watermark to the wall clock (live tick) and evaluates what became due. In event-time
   * mode only the catch-up ends: the watermark waits for the next event.
   */
  tick(): void {
    this.#catchingUp = false;
    // (an idle log: the position of events that changed nothing is committed too, so readiness and lag see it)
    this.#noteDirty();
    if (this.#o.time === 'event') return;
    const fired = this.runtime.timersFired;
    this.runtime.advanceTo(this.#o.clock());
    this.runtime.close();
    this.#noteDirty();
    if (this.runtime.timersFired > fired) this.#o.probe?.('exits', this.#position);
  }

  /**
   * Starts the latency clock of the next checkpoint at the first thing the APIs cannot see yet: a
   * change, or an event read from the log (applied: its profile, the identity graph and the event
   * index changed — an identify that flips nothing must still show on the Profile API; skipped: the
   * position moved).
   */
  #noteDirty(): void {
    if (this.#dirtySince !== Number.POSITIVE_INFINITY) return;
    if (this.#outbox.length > 0 || this.#held.length > 0 || this.#uncheckpointedEvents > 0) this.#dirtySince = this.#o.clock();
  }

  /**
   * Whether a checkpoint is due: enough events, or — when live — anything waiting longer than
   * `checkpointMs` (see `#noteDirty`), or a watermark half a tick past the checkpointed one (an idle
   * engine's clock moves on every tick, and what it has computed up to with it: history `as_of`, the
   * watermark lag). While catching up (replay) only the event count matters: fewer, larger
   * checkpoints write each busy profile once instead of many times.
   */
  checkpointDue(): boolean {
    if (this.#catchingUp) return this.#uncheckpointedEvents >= this.#o.catchUpCheckpointEvents;
    return (
      this.#uncheckpointedEvents >= this.#o.checkpointEvents ||
      this.#o.clock() - this.#dirtySince >= this.#o.checkpointMs ||
      this.runtime.watermark - this.#checkpointedWatermark >= this.#o.tickMs / 2
    );
  }

  /**
   * Commits state, timers, outbox, the identity graph's changes, position and watermark in one LMDB
   * transaction (a restart finds profiles and the identity graph at the same position); then publishes
   * the outbox to the change log (deterministic ids: a republish is deduplicated) and commits the
   * input position on the event log. Resolves when this checkpoint and every one before it is done.
   */
  async checkpoint(): Promise<void> {
    this.#handOver();
    await this.#settle(0);
  }

  /**
   * The run loop's checkpoint. A writer in this thread: committed at once. A pipelined writer: handed
   * over when fewer than `checkpointsInFlight` are out; with the pipeline full the engine evaluates on
   * and the next checkpoint grows (a group commit), unless it is far behind (4 catch-up checkpoints
   * of events), then it waits for room.
   */
  async checkpointAndGoOn(): Promise<void> {
    if (!this.#sink.pipelined) return this.checkpoint();
    if (this.#pipelineFull() && this.#uncheckpointedEvents < 4 * this.#o.catchUpCheckpointEvents) return;
    await this.#settle(Math.max(1, this.#o.checkpointsInFlight) - 1);
    this.#handOver();
  }

  #pipelineFull(): boolean {
    return this.#sink.pipelined && this.#inflight.length >= Math.max(1, this.#o.checkpointsInFlight);
  }

  /** A checkpoint is due but the writer's pipeline is full: the run loop waits for room (or events). */
  #waitingForRoom(): boolean {
    return this.#pipelineFull() && this.checkpointDue();
  }

  get #sink(): CheckpointSink {
    return this.#o.writer ?? this.#o.store;
  }

  /**
   * Takes everything since the last checkpoint into one plain checkpoint (the states as they are now)
   * and hands it to the writer; its confirmation — publish, position commit — runs after the one
   * before it, in order.
   */
  #handOver(): void {
    const started = performance.now();
    const slots = this.runtime.takePersist();
    const changes = this.#outbox;
    this.#outbox = [];
    const held = this.#held;
    this.#held = [];
    const released = this.#released;
    this.#released = [];
    const position = this.#position;
    const watermark = this.runtime.watermark;
    const profiles = slots.map((s) => {
      const write = plainProfileWrite({ state: s.state, savedWake: s.savedWake, ...(s.removed ? { removed: true } : {}), nodes: this.runtime.takeDirtyNodes(s) });
      // (the next checkpoint replaces the timer key this one writes)
      s.savedWake = s.state.wake;
      return write;
    });
    // (a full disk refuses the commit before it writes anything: the same input is committed once space returns)
    const input: PlainCheckpoint = {
      position,
      positionId: this.#positionId,
      watermark,
      profiles,
      pending: this.runtime.pendingEntries(),
      changes,
      partitions: this.#o.partitions,
      publishedThrough: this.#published,
      identity: this.#o.resolver.checkpointWrites?.(),
      history: this.#o.history ? this.#history.take(this.runtime.watermark) : undefined,
      held,
      releasedHeld: released,
      sources: this.#o.transfers === undefined ? undefined : Object.fromEntries(this.#applied),
    };
    this.#checkpointedWatermark = watermark;
    this.#uncheckpointedEvents = 0;
    this.#dirtySince = Number.POSITIVE_INFINITY;
    // (taken now: a pipelined writer copies it before the states change again)
    const taken = this.#sink.take(input);
    const before = this.#inflight.at(-1)?.done;
    const done = (async () => {
      await before;
      const { seq, records } = await this.#retrying('checkpoint commit', () => taken.commit());
      this.#o.probe?.('committed', seq);
      if (seq !== 0) {
        await this.#retrying(`publish of ${records.length} change-log records`, () => this.#o.changeLog.append(records));
        this.#published = Math.max(this.#published, seq);
        this.stats.changesOut += changes.length;
      }
      this.#o.probe?.('published', seq);
      // only after the publish: a restart republishes the outbox before the input moves on
      await this.#retrying(`commit of position ${position}`, () => this.#o.eventLog.commit(this.#o.consumer, position));
      this.stats.checkpoints++;
      this.stats.lastCheckpointMs = performance.now() - started;
      this.stats.position = position;
      this.stats.watermark = watermark;
      this.stats.droppedValues = this.runtime.droppedValues;
      this.stats.overflowedValues = this.runtime.overflowedValues;
      this.stats.profiles = this.runtime.size;
    })();
    const entry = { input, done };
    this.#inflight.push(entry);
    // (a failure is observed by #settle: not unhandled while it waits its turn)
    done.then(
      () => this.#inflight.splice(this.#inflight.indexOf(entry), 1),
      () => {},
    );
  }

  /**
   * Waits until at most `max` checkpoints are in flight. A checkpoint that failed fails this (and the
   * engine); one stopped while retrying (the log away, the disk full) ends quietly: the log still holds
   * every event since the last checkpoint, and the outbox every change not yet published.
   */
  async #settle(max: number): Promise<void> {
    while (this.#inflight.length > max) {
      try {
        await this.#inflight[0]!.done;
      } catch (error) {
        if (error instanceof RetryAbortedError) {
          this.#inflight.length = 0;
          return;
        }
        throw error;
      }
    }
  }

  async #republish(): Promise<void> {
    for (const { seq, records } of this.#o.store.unpublished()) {
      await this.#retrying(`republish of ${records.length} change-log records`, () => this.#o.changeLog.append(records.map((r) => ({ id: r.id, key: r.key, data: r.data }))));
      this.#published = seq;
    }
  }

  /**
   * Runs a log or store operation until it succeeds: a transient failure (the log unreachable, no space) pauses
   * the engine — `stats.paused` says why, `stats.retries` counts — and is retried with backoff until the
   * log is back or the engine stops (then RetryAbortedError). Any other failure is thrown at once.
   */
  #retrying<T>(what: string, operation: () => Promise<T>): Promise<T> {
    return retrying(operation, {
      what,
      retryable: (error) => isTransientLogError(error) || isStorageFull(error),
      signal: this.#signal,
      ...(this.#o.backoff === undefined ? {} : { policy: this.#o.backoff }),
      onFailure: (error) => this.#paused(error),
      onRecovery: () => this.#recovered(),
    });
  }

  #paused(error: unknown): void {
    const reason = this.#pauseReason(error);
    this.stats.retries[reason]++;
    if (this.stats.paused === reason) return;
    this.stats.paused = reason;
    this.#o.onPause?.(reason, error);
  }

  #recovered(): void {
    if (this.stats.paused === null) return;
    this.stats.paused = null;
    this.#o.onPause?.(null);
  }

  /** No space left under the reserve (a store or an embedded log), a log that is not the checkpoint's, else a log that cannot be reached. */
  #pauseReason(error: unknown): PauseReason {
    return isStorageFull(error) ? 'disk_full' : error instanceof LogDivergedError ? 'log_diverged' : 'log_unreachable';
  }

  /**
   * Runs until `signal` aborts: reads the event log from the checkpointed position, ticks at the next
   * timer instant (or every `tickMs`) when no events come, checkpoints when due, and on the way out
   * applies what the log holds (when live) and makes a final checkpoint.
   */
  async run(signal: AbortSignal): Promise<void> {
    this.#signal = signal;
    if (!(await this.#logMatches())) return;
    const open = () => this.#o.eventLog.tail(this.#position + 1, { maxBatch: this.#o.maxBatch, signal })[Symbol.asyncIterator]();
    let iterator = open();
    // A tail may fail while the loop awaits something else (a checkpoint retrying its publish): the
    // failure is taken up by the next race; marking it handled here keeps it from counting as an
    // unhandled rejection meanwhile (which ends the thread).
    const pull = () => {
      const p = iterator.next();
      p.catch(() => {});
      return p;
    };
    let next = pull();
    let wake: (() => void) | undefined;
    const onAbort = () => wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        const delay = this.#idleDelay();
        let handle: NodeJS.Timeout | undefined;
        const idle = new Promise<'tick'>((resolve) => {
          wake = () => resolve('tick');
          handle = setTimeout(wake, delay);
        });
        let r: Awaited<typeof next> | 'tick' | 'room';
        try {
          // (a due checkpoint waiting for the writer: room in its pipeline wakes the loop too)
          const room = this.#waitingForRoom() ? this.#inflight[0]!.done.then(() => 'room' as const, () => 'room' as const) : undefined;
          r = await Promise.race(room === undefined ? [next, idle] : [next, idle, room]);
        } catch (error) {
          clearTimeout(handle);
          if (!isTransientLogError(error)) throw error;
          if (signal.aborted) break;
          // The tail failed (the log unreachable): wait until the log answers again, then tail again
          // from the last applied position.
          this.#paused(error);
          await sleep(backoffDelay(0, Math.random(), this.#o.backoff), signal);
          await this.#retrying(`tail from ${this.#position + 1}`, () => this.#o.eventLog.lastSeq());
          this.#recovered();
          if (!(await this.#logMatches())) break;
          iterator = open();
          next = pull();
          continue;
        }
        clearTimeout(handle);
        if (signal.aborted) break;
        if (r === 'room') {
          // a checkpoint can go now (below)
        } else if (r === 'tick') {
          // While catching up the watermark follows the log's event time: a batch that is merely slow to
          // arrive must not move it to the wall clock (later events would all be late, their enters and
          // exits evaluated at "now" instead of their instants). Only an idle log ends the catch-up.
          if (!(this.#catchingUp && (await this.#retrying('reading the log end', () => this.#o.eventLog.lastSeq())) > this.#position)) this.tick();
        } else {
          if (r.done === true) break;
          next = pull();
          this.process(r.value);
          await this.publishHandovers();
          // A turn of the event loop between batches: a tail hands over the batches it buffered (up to
          // four) without one, and what shares this loop — a partition set's lease renewal — must run
          // (thousands of cold profiles on one turn stalled it for seconds on a loaded machine).
          await new Promise((resolve) => setImmediate(resolve));
        }
        // (a backfill's read of an unreachable log fails before the job moves: the step is retried whole)
        const background = this.#o.background;
        if (background?.pending() === true) await this.#retrying('a background step', () => background.step());
        if (this.checkpointDue()) await this.checkpointAndGoOn();
      }
    } catch (error) {
      // stopped while waiting for the log: not a failure
      if (!(error instanceof RetryAbortedError)) throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      await iterator.return?.();
      if (this.#failure === undefined && !this.#diverged) {
        try {
          if (signal.aborted) await this.#drain();
        } finally {
          // (a log that fails while draining: what was applied is still checkpointed, then the error goes on)
          if (this.#failure === undefined) await this.checkpoint();
        }
      }
    }
  }

  /**
   * Whether the event log still holds what the checkpoint says was applied: it reaches the position,
   * and the event there (unless it aged out) is the one applied. If not — nats-server lost data, the
   * stream was recreated, another data dir's log — going on would skip or misplace events, so the
   * engine pauses (`log_diverged`, one notice with the reason) until it is stopped, and writes nothing.
   */
  async #logMatches(): Promise<boolean> {
    const position = this.#position;
    if (position === 0 || this.#positionId === undefined) return true;
    const end = await this.#retrying('reading the log end', () => this.#o.eventLog.lastSeq());
    let problem: string | undefined;
    if (end < position) problem = `the event log ends at ${end}, before position ${position} the checkpoint applied: it lost events`;
    else {
      // (a worker's input may put a prepare before the record at the position: it has an earlier one)
      const at = (await this.#retrying(`reading position ${position}`, () => this.#o.eventLog.read(position, 1))).find((e) => e.seq === position);
      if (at !== undefined && at.seq === position && logId(at) !== this.#positionId) {
        problem = `position ${position} of the event log holds ${logId(at)}, not ${this.#positionId} that the checkpoint applied: it is another log`;
      }
    }
    if (problem === undefined) return true;
    this.#diverged = true;
    this.#paused(new LogDivergedError(`${problem} (nats-server data loss, or a recreated stream). The engine waits: restore the log, or remove the engine's state (<data-dir>/engine) to compute again from what the log holds.`));
    const signal = this.#signal;
    if (signal !== undefined && !signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    return false;
  }

  /**
   * A stop applies the events the log holds as it stops, so the final checkpoint has every event
   * accepted before it (the server stops accepting first). Live, that is a few batches at most; while
   * catching up (an engine starts so) a longer rest waits for the next start.
   */
  async #drain(): Promise<void> {
    const end = await this.#o.eventLog.lastSeq();
    if (this.#catchingUp && end - this.#position > this.#o.maxBatch) return;
    while (this.#position < end) {
      const batch = await this.#o.eventLog.read(this.#position + 1, Math.min(this.#o.maxBatch, end - this.#position));
      if (batch.length === 0) break;
      const before = this.#position;
      this.process(batch);
      await this.publishHandovers();
      // (a worker's event waiting for a state: its input gave a prepare only, which moves no position)
      if (this.#position === before) break;
    }
  }

  /**
   * A worker publishes the states other workers wait for — of each profile it handed over, and the
   * copies of the users they start shadowing — before going on. Before its checkpoint, so a crash
   * publishes them again — under the same ids, which the log drops.
   */
  async publishHandovers(): Promise<void> {
    if (this.#handovers.length === 0) return;
    const records = this.#handovers;
    this.#handovers = [];
    const log = this.#o.transfers!;
    await this.#retrying('publishing state transfers', () => log.append(records));
  }

  /**
   * How long to wait for events before a tick: until the next timer, at most `tickMs`. While catching
   * up, timers are due in event time as the batches come, so only `tickMs` of silence counts.
   */
  #idleDelay(): number {
    if (this.#o.background?.pending() === true) return 0;
    if (this.#catchingUp) return this.#o.tickMs;
    const now = this.#o.clock();
    // (event time: a timer is due when an event passes it, never by the wall clock)
    const untilTimer = this.#o.time === 'event' ? Number.POSITIVE_INFINITY : this.runtime.nextTimer() - now;
    // (a due checkpoint waiting for room in the writer's pipeline is not a reason to wake)
    const untilCheckpoint = this.#dirtySince === Number.POSITIVE_INFINITY || this.#waitingForRoom() ? Number.POSITIVE_INFINITY : this.#dirtySince + this.#o.checkpointMs - now;
    return Math.max(0, Math.min(this.#o.tickMs, untilTimer, untilCheckpoint));
  }
}

/** An event's id in the log: what the log deduplicates on (`<space>/<messageId>`). */
function logId(e: LoggedEvent): string {
  return `${e.event.space}/${e.event.messageId}`;
}

/** Trait values compare by content (JSON), absent = undefined. */
function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b));
}
