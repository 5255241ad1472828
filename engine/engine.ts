/** The engine service: event log → identity → runtime → outbox → LMDB checkpoint → change log, with restart recovery. */
import { Subject } from 'rxjs';
import type { AppendLog, LogRecord } from './log/append-log.ts';
import type { EventLog, LoggedEvent } from './log/event-log.ts';
import { fnv1a32 } from './log/partition.ts';
import type { IdentityResolver } from './identity/resolver.ts';
import type { Plan } from './plan/plan.ts';
import { Runtime } from './runtime/runtime.ts';
import type { Change } from './runtime/change.ts';
import type { CheckpointStore } from './store/checkpoint-store.ts';
import { resolveProfiles } from './pipeline/resolve-profiles.ts';
import { evaluateBatch, type EvaluatedBatch } from './pipeline/evaluate-batch.ts';

export interface EngineOptions {
  readonly eventLog: EventLog;
  readonly changeLog: AppendLog;
  readonly store: CheckpointStore;
  readonly plans: ReadonlyMap<string, Plan>;
  readonly resolver: IdentityResolver;
  /** wall clock; tests pass a virtual one. */
  readonly clock?: () => number;
  /** live tick: the longest the watermark waits behind the wall clock with no events (ms). */
  readonly tickMs?: number;
  /** checkpoint after this many events … */
  readonly checkpointEvents?: number;
  /** … or this long after the first uncheckpointed change (ms). */
  readonly checkpointMs?: number;
  readonly catchUpLagMs?: number;
  readonly maxBatch?: number;
  /** name of the engine's position on the event log. */
  readonly consumer?: string;
  readonly partitions?: number;
  /** test hook: called at named points of the loop; throwing there simulates a crash. */
  readonly probe?: (point: 'applied' | 'committed' | 'published', detail: number) => void;
}

export interface EngineStats {
  eventsIn: number;
  eventsSkipped: number;
  changesOut: number;
  checkpoints: number;
  lastCheckpointMs: number;
  position: number;
  watermark: number;
}

/** Change-log records carry the change as JSON, keyed `<space>.<partition>` by profile. */
export function encodeChange(change: Change, partitions: number): LogRecord {
  return {
    id: change.id,
    key: `${change.space}.${fnv1a32(change.profileId) % partitions}`,
    data: Buffer.from(JSON.stringify(change, (_k, v) => (v === undefined ? null : v))),
  };
}

export function decodeChange(data: Uint8Array): Change {
  return JSON.parse(Buffer.from(data).toString('utf8')) as Change;
}

export class Engine {
  readonly runtime: Runtime;
  readonly stats: EngineStats;
  readonly #o: Required<Omit<EngineOptions, 'probe'>> & Pick<EngineOptions, 'probe'>;
  readonly #input = new Subject<readonly LoggedEvent[]>();
  #outbox: Change[] = [];
  #published: number;
  #position: number;
  #uncheckpointedEvents = 0;
  #dirtySince = Number.POSITIVE_INFINITY;
  #failure: unknown = undefined;

  private constructor(options: EngineOptions) {
    this.#o = {
      clock: Date.now,
      tickMs: 1000,
      checkpointEvents: 10_000,
      checkpointMs: 50,
      catchUpLagMs: 2000,
      maxBatch: 2000,
      consumer: 'engine',
      partitions: 16,
      ...options,
    };
    const meta = options.store.meta();
    this.#position = meta.position;
    this.#published = meta.publishedThrough;
    this.runtime = new Runtime({
      plans: options.plans,
      source: { load: (space, id) => options.store.loadProfile(space, id) },
      onChange: (c) => this.#outbox.push(c),
      watermark: meta.watermark,
    });
    for (const t of options.store.timers()) this.runtime.restoreTimer(t.space, t.id, t.wake);
    for (const p of meta.pending) this.runtime.restorePending(p.space, p.id, p);
    this.stats = {
      eventsIn: 0,
      eventsSkipped: 0,
      changesOut: 0,
      checkpoints: 0,
      lastCheckpointMs: 0,
      position: meta.position,
      watermark: meta.watermark,
    };
    this.#input
      .pipe(
        resolveProfiles(options.resolver),
        evaluateBatch(this.runtime, { clock: this.#o.clock, catchUpLagMs: this.#o.catchUpLagMs }),
      )
      .subscribe({
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
    this.#input.next(batch);
    if (this.#failure !== undefined) throw this.#failure;
    this.#o.probe?.('applied', this.#position);
  }

  #afterBatch(b: EvaluatedBatch): void {
    this.#position = Math.max(this.#position, b.lastSeq);
    this.stats.eventsIn += b.events.length;
    this.stats.eventsSkipped += b.skipped;
    this.#uncheckpointedEvents += b.events.length + b.skipped;
    this.#noteDirty();
  }

  /** Moves the watermark to the wall clock (live tick) and evaluates what became due. */
  tick(): void {
    const now = this.#o.clock();
    this.runtime.advanceTo(now);
    this.runtime.close();
    this.#noteDirty();
  }

  #noteDirty(): void {
    if (this.#outbox.length > 0 && this.#dirtySince === Number.POSITIVE_INFINITY) this.#dirtySince = this.#o.clock();
  }

  /** Whether a checkpoint is due: enough events, or changes waiting longer than `checkpointMs`. */
  checkpointDue(): boolean {
    return this.#uncheckpointedEvents >= this.#o.checkpointEvents || this.#o.clock() - this.#dirtySince >= this.#o.checkpointMs;
  }

  /**
   * Commits state, timers, outbox, position and watermark in one LMDB transaction; then publishes
   * the outbox to the change log (deterministic ids: a republish is deduplicated) and commits the
   * input position on the event log.
   */
  async checkpoint(): Promise<void> {
    const started = performance.now();
    const slots = this.runtime.takePersist();
    const changes = this.#outbox;
    this.#outbox = [];
    const position = this.#position;
    const { from, to } = await this.#o.store.commit({
      position,
      watermark: this.runtime.watermark,
      profiles: slots.map((s) => ({ state: s.state, savedWake: s.savedWake })),
      pending: this.runtime.pendingEntries(),
      changes,
      publishedThrough: this.#published,
    });
    for (const s of slots) s.savedWake = s.state.wake;
    this.#uncheckpointedEvents = 0;
    this.#dirtySince = Number.POSITIVE_INFINITY;
    this.#o.probe?.('committed', to);
    if (changes.length > 0) {
      await this.#o.changeLog.append(changes.map((c) => encodeChange(c, this.#o.partitions)));
      this.#published = to;
      this.stats.changesOut += changes.length;
    } else if (from > to) this.#published = Math.max(this.#published, to);
    this.#o.probe?.('published', to);
    await this.#o.eventLog.commit(this.#o.consumer, position);
    this.stats.checkpoints++;
    this.stats.lastCheckpointMs = performance.now() - started;
    this.stats.position = position;
    this.stats.watermark = this.runtime.watermark;
  }

  async #republish(): Promise<void> {
    const pending = this.#o.store.unpublished();
    if (pending.length === 0) return;
    await this.#o.changeLog.append(pending.map((p) => encodeChange(p.change, this.#o.partitions)));
    this.#published = pending[pending.length - 1]!.seq;
  }

  /**
   * Runs until `signal` aborts: reads the event log from the checkpointed position, ticks at the next
   * timer instant (or every `tickMs`) when no events come, checkpoints when due, and makes a final
   * checkpoint on the way out.
   */
  async run(signal: AbortSignal): Promise<void> {
    const iterator = this.#o.eventLog.tail(this.#position + 1, { maxBatch: this.#o.maxBatch, signal })[Symbol.asyncIterator]();
    let next = iterator.next();
    try {
      while (!signal.aborted) {
        const delay = this.#idleDelay();
        const timer = new AbortController();
        const sleep = new Promise<'tick'>((resolve) => {
          const handle = setTimeout(() => resolve('tick'), delay);
          timer.signal.addEventListener('abort', () => clearTimeout(handle), { once: true });
          signal.addEventListener('abort', () => resolve('tick'), { once: true });
        });
        const r = await Promise.race([next, sleep]);
        timer.abort();
        if (signal.aborted) break;
        if (r === 'tick') this.tick();
        else {
          if (r.done === true) break;
          next = iterator.next();
          this.process(r.value);
        }
        if (this.checkpointDue()) await this.checkpoint();
      }
    } finally {
      await iterator.return?.();
      if (this.#failure === undefined) await this.checkpoint();
    }
  }

  /** How long to wait for events before a tick: until the next timer, at most `tickMs`. */
  #idleDelay(): number {
    const now = this.#o.clock();
    const untilTimer = this.runtime.nextTimer() - now;
    const untilCheckpoint = this.#dirtySince === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : this.#dirtySince + this.#o.checkpointMs - now;
    return Math.max(0, Math.min(this.#o.tickMs, untilTimer, untilCheckpoint));
  }
}
