/** A backfill: definition versions computed by replaying the event log through their own runtime until it reaches the live engine. */
import type { EventLog } from '../log/event-log.ts';
import type { IdentityResolver } from '../identity/resolver.ts';
import { compilePlan, type CompileOptions } from '../plan/compile.ts';
import type { DefinitionInput, Plan } from '../plan/plan.ts';
import type { Change } from '../runtime/change.ts';
import type { DefinitionCell } from '../runtime/profile-state.ts';
import { Runtime, type RuntimeInput } from '../runtime/runtime.ts';

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
}

/**
 * Replays the log from the start in event time (exact instants, the same way a restart replays),
 * in steps the engine interleaves with live traffic. The engine finishes it when it has caught up:
 * the job advances to the live watermark and the live runtime adopts its states.
 */
export class BackfillJob {
  readonly runtime: Runtime;
  readonly plan: Plan;
  /** fingerprints of the target versions in this job's plan (the same in the live plan). */
  readonly targetFps: ReadonlySet<string>;
  /** … and of the hidden user-level definitions of account targets: what the live runtime adopts. */
  readonly adoptFps: ReadonlySet<string>;
  /** the last log position replayed. */
  position = 0;
  /** the target versions' changes at their true instants (with `history`). */
  readonly history: Change[] = [];
  readonly startedAt: number;
  #events = 0;
  readonly #o: BackfillOptions;

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
    const keep = options.history === true ? (c: Change) => options.targets.has(c.definitionId) && this.history.push(c) : () => {};
    this.runtime = new Runtime({ plans: new Map([[options.space, plan]]), onChange: keep });
    this.startedAt = options.clock();
  }

  /** Replays up to `max` more events, never beyond `until` (the live position). Returns how many were read. */
  async step(max: number, until: number): Promise<number> {
    if (this.position >= until) return 0;
    const batch = await this.#o.eventLog.read(this.position + 1, Math.min(max, until - this.position));
    const inputs: RuntimeInput[] = [];
    for (const { seq, event } of batch) {
      if (seq > until) break;
      this.position = seq;
      if (event.space !== this.#o.space) continue;
      const r = this.#o.resolver.resolve(event);
      if (r.profileId !== null) inputs.push({ event, profileId: r.profileId });
    }
    this.runtime.replay(inputs, this.#o.clock());
    this.#events += batch.length;
    return batch.length;
  }

  /** Fraction of the log replayed, and an estimate of when it will be done (epoch ms). */
  progress(until: number): { fraction: number; eta: number | undefined } {
    const fraction = until === 0 ? 1 : Math.min(1, this.position / until);
    const elapsed = this.#o.clock() - this.startedAt;
    const rate = this.#events / Math.max(1, elapsed);
    const eta = rate > 0 ? this.#o.clock() + (until - this.position) / rate : undefined;
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
