/** A backfill: definition versions computed by replaying the event log in event-time order through their own runtime until it reaches the live engine. */
import type { EventLog } from '../log/event-log.ts';
import type { IdentityResolver } from '../identity/resolver.ts';
import { compilePlan, type CompileOptions } from '../plan/compile.ts';
import type { DefinitionInput, Plan } from '../plan/plan.ts';
import type { Change } from '../runtime/change.ts';
import type { DefinitionCell } from '../runtime/profile-state.ts';
import { Runtime, type RuntimeInput } from '../runtime/runtime.ts';
import { EventTimeIndex } from './event-time-order.ts';
import type { LoggedEvent } from '../log/event-log.ts';

/** Events of a space a backfill orders in memory at most (20 bytes each: 1 GB). */
export const DEFAULT_BACKFILL_MAX_EVENTS = 50_000_000;

export interface BackfillOptions {
  readonly space: string;
  /**
   * the versions to compute, and every definition they read (computed alongside, from scratch). A
   * lookback or "no historical data" is each input's `since`: events before it are not counted,
   * trait data is always included.
   */
  readonly inputs: readonly DefinitionInput[];
  /** ids of the versions this backfill is for (the others are only there to be read). */
  readonly targets: ReadonlySet<string>;
  readonly eventLog: EventLog;
  readonly resolver: IdentityResolver;
  readonly clock: () => number;
  readonly compile?: CompileOptions;
  /** keep the target versions' changes (their history, recorded at the switch). */
  readonly history?: boolean;
  /** events of the space the backfill orders by event time at most (default DEFAULT_BACKFILL_MAX_EVENTS). */
  readonly maxEvents?: number;
}

/**
 * Computes definition versions over the log as if every event had arrived on time: the log up to
 * the live position when the job starts (the cut) is replayed in event-time order — timestamp, then
 * log position — so a version's history is the event-time truth whatever the arrival order (events
 * arrived out of order are not "late" here). Events appended after the cut are replayed in log order
 * (late ones count from their arrival, as the live engine counts them). It runs in steps the engine
 * interleaves with live traffic: first an index of the space's events (`EventTimeIndex`), then the
 * replay in its order, then the tail. The engine finishes it when it has caught up: the job advances
 * to the live watermark and the live runtime adopts its states.
 *
 * The switch: late events are placed exactly, whatever the order they are applied in (within the
 * log's retention), so the backfill's states and the live engine's hold the same events at the same
 * watermark and give the same answers from then on; only the past differs (the live engine's changes
 * said when it learnt of a late event, the backfill's history when it happened).
 */
export class BackfillJob {
  readonly runtime: Runtime;
  readonly plan: Plan;
  /** fingerprints of the target versions in this job's plan (the same in the live plan). */
  readonly targetFps: ReadonlySet<string>;
  /** … and of the hidden user-level definitions of account targets: what the live runtime adopts. */
  readonly adoptFps: ReadonlySet<string>;
  /** the last log position read (indexed up to the cut, then replayed in log order after it). */
  position = 0;
  /** the target versions' changes at their true instants (with `history`). */
  readonly history: Change[] = [];
  readonly startedAt: number;
  /** the live position when the job started: up to it the log is replayed in event-time order. */
  #cut: number | undefined;
  readonly #index: EventTimeIndex;
  readonly #o: BackfillOptions;
  #hidden: (id: string) => boolean = () => false;

  /** The fingerprint of target `id` in this job's plan (the same in the live plan). */
  targetFp(id: string): string | undefined {
    return this.plan.definitions.find((d) => d.input.id === id && this.targetFps.has(d.fp))?.fp;
  }

  /** What the live runtime adopts of the targets `ids` only (a shared pass whose other targets were dropped). */
  adoptFpsOf(ids: ReadonlySet<string>): ReadonlySet<string> {
    const of = (id: string) => ids.has(id.includes('~') ? id.slice(0, id.indexOf('~')) : id);
    return new Set(this.plan.definitions.filter((d) => of(d.input.id) && (this.targetFps.has(d.fp) || this.#hidden(d.input.id))).map((d) => d.fp));
  }

  constructor(options: BackfillOptions) {
    this.#o = options;
    const { plan, failures } = compilePlan(options.inputs, options.compile);
    const failed = [...failures.entries()].filter(([id]) => options.targets.has(id));
    if (failed.length > 0) throw new BackfillError(failed.map(([, e]) => e.message).join('; '));
    this.plan = plan;
    this.targetFps = new Set(plan.definitions.filter((d) => options.targets.has(d.input.id)).map((d) => d.fp));
    // (an account definition's conditions under ANY / ALL are hidden user-level definitions `<id>~u<n>`: adopted with it)
    const hidden = (id: string) => id.includes('~') && options.targets.has(id.slice(0, id.indexOf('~')));
    this.adoptFps = new Set([...this.targetFps, ...plan.definitions.filter((d) => hidden(d.input.id)).map((d) => d.fp)]);
    this.#hidden = hidden;
    const keep = options.history === true ? (c: Change) => options.targets.has(c.definitionId) && this.history.push(c) : () => {};
    this.runtime = new Runtime({ plans: new Map([[options.space, plan]]), onChange: keep });
    this.#index = new EventTimeIndex(options.maxEvents ?? DEFAULT_BACKFILL_MAX_EVENTS);
    this.startedAt = options.clock();
  }

  /**
   * One step of at most `max` events, never beyond `until` (the live position): indexing up to the
   * cut, then replaying in event-time order, then the tail in log order. Returns how many were read.
   */
  async step(max: number, until: number): Promise<number> {
    this.#cut ??= until;
    const cut = this.#cut;
    if (this.position < cut) {
      const batch = await this.#o.eventLog.read(this.position + 1, Math.min(max, cut - this.position));
      for (const { seq, event } of batch) {
        if (seq > cut) break;
        this.position = seq;
        if (event.space !== this.#o.space) continue;
        if (!this.#index.add(event.timestamp, seq)) {
          throw new BackfillError(
            `the log holds more than ${this.#index.maxEvents} events of space ${this.#o.space}: a backfill orders them by event time in memory (20 bytes each); narrow it with backfillEventDataDays`,
          );
        }
      }
      // (a log that ends before the cut — its retention removed the rest — is indexed)
      if (batch.length === 0) this.position = cut;
      return batch.length;
    }
    if (!this.#index.done) {
      const batch = await this.#index.take(this.#o.eventLog, max);
      this.#replay(batch);
      return batch.length;
    }
    if (this.position >= until) return 0;
    const batch = await this.#o.eventLog.read(this.position + 1, Math.min(max, until - this.position));
    const tail: LoggedEvent[] = [];
    for (const e of batch) {
      if (e.seq > until) break;
      this.position = e.seq;
      if (e.event.space === this.#o.space) tail.push(e);
    }
    this.#replay(tail);
    return batch.length;
  }

  /** The log position up to which the job replays the log in event-time order (0 before its first step). */
  get cut(): number {
    return this.#cut ?? 0;
  }

  /** Whether the job has replayed the log up to `until` (the live position): it can switch. */
  caughtUp(until: number): boolean {
    return this.#cut !== undefined && this.position >= this.#cut && this.#index.done && this.position >= until;
  }

  #replay(batch: readonly LoggedEvent[]): void {
    const inputs: RuntimeInput[] = [];
    for (const { event } of batch) {
      const r = this.#o.resolver.resolve(event);
      if (r.profileId !== null) inputs.push({ event, profileId: r.profileId });
    }
    this.runtime.replay(inputs, this.#o.clock());
  }

  /** Fraction of the work done (half indexing, half the replay in event-time order; the tail is short), and an estimate of when it will be done (epoch ms). */
  progress(until: number): { fraction: number; eta: number | undefined } {
    const cut = this.#cut ?? until;
    let fraction: number;
    if (this.caughtUp(until)) fraction = 1;
    else if (this.position < cut) fraction = cut === 0 ? 0 : (0.5 * this.position) / cut;
    else if (!this.#index.done) fraction = 0.5 + (0.5 * this.#index.taken) / Math.max(1, this.#index.size);
    else fraction = 0.99;
    const now = this.#o.clock();
    const elapsed = now - this.startedAt;
    const eta = fraction > 0 && fraction < 1 ? now + (elapsed * (1 - fraction)) / fraction : undefined;
    return { fraction, eta };
  }

  /** Moves the job to the live watermark (timers up to it fire at their instants). */
  finishAt(watermark: number): void {
    this.runtime.advanceTo(watermark);
    this.runtime.close();
  }

  /** The target versions' outputs: profile id → cell, for the profiles that have a value. */
  outputs(): Map<string, DefinitionCell> {
    const out = new Map<string, DefinitionCell>();
    const indices = this.plan.definitions.filter((d) => this.targetFps.has(d.fp)).map((d) => d.index);
    for (const st of this.runtime.profiles(this.#o.space)) {
      for (const i of indices) {
        const cell = st.cells[i];
        if (cell?.v !== undefined) out.set(st.id, cell);
      }
    }
    return out;
  }
}

/** A version that cannot be backfilled (its definition does not compile). */
export class BackfillError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackfillError';
  }
}
