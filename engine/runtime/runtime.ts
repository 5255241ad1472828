/** The incremental evaluator: applies events to per-profile state, fires timers at exact instants and emits changes. */
import {
  advance,
  aggregateValue,
  createAggregate,
  insert,
  IGNORED,
  keepsIgnored,
  nextChange,
  reducerInput,
  touch,
} from '../../operators/kernels/window-aggregate.ts';
import { TimerHeap } from '../../operators/kernels/timer-heap.ts';
import type { FlockEvent } from '../event/model.ts';
import { getPath } from '../eval/values.ts';
import type { EvalContext, Plan } from '../plan/plan.ts';
import { changeId, type Change } from './change.ts';
import { createProfileState, type ProfileState } from './profile-state.ts';

/** Pending work of one profile at the open instant (checkpointed so a restart resumes it). */
export interface PendingEntry {
  readonly space: string;
  readonly id: string;
  readonly all: boolean;
  readonly aggs: readonly string[];
  readonly traits: readonly string[];
  readonly flips: readonly string[];
}

/**
 * Time. The runtime's clock is the watermark `W`, which only moves forward:
 * - `advanceTo(t)` first *closes* the current instant (evaluates every profile touched at `W`), then
 *   fires the timers before `t` in time order — each instant evaluated on its own, so an exit
 *   happens exactly when the last event leaves its window — and finally moves to `t`, where timers
 *   due at exactly `t` join the pending instant.
 * - `apply(event)` updates state at `W`: an event from the past (ts ≤ W) is late and counts from
 *   `W` on; one from the future (ts > W) is stored and starts counting at its ts (a timer).
 * - `close()` evaluates the pending instant. Event-time replay leaves the instant open until the
 *   watermark moves on (more events may share the timestamp); live batches close it at once.
 * Each instant is closed once, so a change id (definition, version, profile, instant, direction)
 * never repeats.
 */

export interface ProfileSource {
  /** the checkpointed state of a profile, or undefined for a profile never seen. */
  load(space: string, id: string): ProfileState | undefined;
}

export interface RuntimeOptions {
  readonly plans: ReadonlyMap<string, Plan>;
  readonly source?: ProfileSource;
  readonly onChange: (change: Change) => void;
  /** initial watermark (restored from a checkpoint). */
  readonly watermark?: number;
}

/** What is pending for one profile at the open instant. */
export class Slot {
  /** every definition (a profile seen for the first time). */
  all = false;
  aggs: number[] = [];
  traits: string[] = [];
  flips: string[] = [];
  queued = false;
  /** changed since the last checkpoint. */
  persist = false;
  /** the wake the last checkpoint wrote (its timer-index key). */
  savedWake = Number.POSITIVE_INFINITY;
  constructor(
    readonly key: string,
    public state: ProfileState,
  ) {}
}

class SpaceRuntime implements EvalContext {
  now = 0;
  flip = Number.POSITIVE_INFINITY;
  slot: Slot | null = null;
  private epoch = 0;
  private readonly mark: Int32Array;
  private readonly memoEpoch: Int32Array;
  private readonly memo: unknown[];
  readonly empty: unknown[];

  constructor(readonly plan: Plan) {
    this.mark = new Int32Array(plan.definitions.length);
    this.memoEpoch = new Int32Array(plan.aggregates.length);
    this.memo = new Array(plan.aggregates.length);
    this.empty = plan.aggregates.map((a) => aggregateValue(a.spec, createAggregate(0)));
  }

  // EvalContext -------------------------------------------------------------------------------
  aggregate(index: number): unknown {
    if (this.memoEpoch[index] === this.epoch) return this.memo[index];
    const node = this.plan.aggregates[index]!;
    const st = this.slot!.state.aggs.get(node.fp);
    let v: unknown;
    if (st === undefined) v = this.empty[index];
    else {
      advance(node.spec, st, this.now);
      v = aggregateValue(node.spec, st);
    }
    this.memoEpoch[index] = this.epoch;
    this.memo[index] = v;
    return v;
  }
  touched(index: number): boolean {
    const st = this.slot!.state.aggs.get(this.plan.aggregates[index]!.fp);
    return st !== undefined && st.e0 <= this.now;
  }
  trait(path: readonly string[]): unknown {
    return getPath(this.slot!.state.traits, path);
  }
  output(index: number): unknown {
    const def = this.plan.definitions[index]!;
    const v = this.slot!.state.outputs.get(def.fp);
    return def.input.kind === 'audience' ? v === true : v;
  }
  flipAt(t: number): void {
    if (t < this.flip) this.flip = t;
  }

  /** Evaluates the pending definitions of `slot` at `now` in dependency order; emits changes. */
  evaluate(slot: Slot, now: number, emit: (c: Change) => void): void {
    const plan = this.plan;
    const defs = plan.definitions;
    const st = slot.state;
    this.slot = slot;
    this.now = now;
    const epoch = ++this.epoch;
    const mark = this.mark;
    let first = defs.length;
    const add = (d: number) => {
      mark[d] = epoch;
      if (d < first) first = d;
    };
    if (slot.all) for (let d = 0; d < defs.length; d++) add(d);
    else {
      for (const a of slot.aggs) for (const d of plan.aggregates[a]!.dependents) add(d);
      for (const k of slot.traits) for (const d of plan.definitionsByTrait.get(k) ?? []) add(d);
      for (const fp of slot.flips) {
        const d = plan.definitionByFp.get(fp);
        if (d !== undefined) add(d);
      }
    }
    slot.all = false;
    slot.aggs.length = 0;
    slot.traits.length = 0;
    slot.flips.length = 0;

    for (let d = first; d < defs.length; d++) {
      if (mark[d] !== epoch) continue;
      const def = defs[d]!;
      this.flip = Number.POSITIVE_INFINITY;
      const value = def.evaluate(this);
      if (this.flip !== Number.POSITIVE_INFINITY) st.flips.set(def.fp, this.flip);
      else st.flips.delete(def.fp);
      const input = def.input;
      const previous = st.outputs.get(def.fp);
      let change: Change | null = null;
      if (input.kind === 'audience') {
        const isIn = value === true;
        if (isIn !== (previous === true)) {
          if (isIn) st.outputs.set(def.fp, true);
          else st.outputs.delete(def.fp);
          const kind = isIn ? 'enter' : 'exit';
          change = {
            id: changeId(input.id, input.version, st.id, now, isIn ? 'e' : 'x'),
            space: st.space,
            collection: 'users',
            definitionId: input.id,
            version: input.version,
            profileId: st.id,
            at: now,
            kind,
            audienceKey: input.key,
          };
        }
      } else if (!sameValue(previous, value)) {
        if (value === undefined) st.outputs.delete(def.fp);
        else st.outputs.set(def.fp, value);
        change = {
          id: changeId(input.id, input.version, st.id, now, 't'),
          space: st.space,
          collection: 'users',
          definitionId: input.id,
          version: input.version,
          profileId: st.id,
          at: now,
          kind: 'trait',
          traitKey: input.key,
          value,
          previous,
        };
      }
      if (change !== null) {
        st.outputAt.set(def.fp, now);
        emit(change);
        for (const dep of def.dependents) add(dep);
      }
    }
    this.slot = null;
  }

  /** The profile's next timer: the earliest instant any of its aggregates or flips may change. */
  wakeOf(st: ProfileState): number {
    let wake = Number.POSITIVE_INFINITY;
    const plan = this.plan;
    for (const [fp, agg] of st.aggs) {
      const i = plan.aggregateByFp.get(fp);
      if (i === undefined) continue; // a node of a removed definition: kept until compaction drops it
      const t = nextChange(plan.aggregates[i]!.spec, agg);
      if (t < wake) wake = t;
    }
    for (const t of st.flips.values()) if (t < wake) wake = t;
    return wake;
  }
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

const EMPTY_PLAN: Plan = {
  aggregates: [],
  definitions: [],
  aggregatesByEvent: new Map(),
  aggregateByFp: new Map(),
  definitionsByTrait: new Map(),
  definitionByKey: new Map(),
  definitionByFp: new Map(),
};

export class Runtime {
  private readonly spaces = new Map<string, SpaceRuntime>();
  private readonly slots = new Map<string, Slot>();
  private readonly timers = new TimerHeap<Slot | { readonly space: string; readonly id: string }>();
  private readonly queue: Slot[] = [];
  /** slots changed since the last `takePersist()`. */
  private readonly toPersist: Slot[] = [];
  private readonly source: ProfileSource | undefined;
  private readonly onChange: (change: Change) => void;
  private w: number;

  constructor(options: RuntimeOptions) {
    for (const [space, plan] of options.plans) this.spaces.set(space, new SpaceRuntime(plan));
    this.source = options.source;
    this.onChange = options.onChange;
    this.w = options.watermark ?? Number.NEGATIVE_INFINITY;
  }

  get watermark(): number {
    return this.w;
  }

  /** Replaces a space's plan (definitions added, edited or removed). */
  setPlan(space: string, plan: Plan): void {
    this.close();
    this.spaces.set(space, new SpaceRuntime(plan));
  }

  plan(space: string): Plan {
    return this.space(space).plan;
  }

  private space(space: string): SpaceRuntime {
    let sr = this.spaces.get(space);
    if (sr === undefined) {
      sr = new SpaceRuntime(EMPTY_PLAN);
      this.spaces.set(space, sr);
    }
    return sr;
  }

  /** The in-memory slot of a profile, loading it from the checkpoint or creating it. */
  slot(space: string, id: string): Slot {
    const key = `${space}\u0000${id}`;
    let slot = this.slots.get(key);
    if (slot !== undefined) return slot;
    const loaded = this.source?.load(space, id);
    slot = new Slot(key, loaded ?? createProfileState(space, id, this.w));
    if (loaded === undefined) slot.all = true;
    else {
      slot.savedWake = loaded.wake;
      if (Number.isFinite(loaded.wake)) this.timers.push(loaded.wake, slot);
    }
    this.slots.set(key, slot);
    return slot;
  }

  /** A profile's state if it exists (in memory or checkpoint). */
  profile(space: string, id: string): ProfileState | undefined {
    const slot = this.slots.get(`${space}\u0000${id}`);
    return slot?.state ?? this.source?.load(space, id);
  }

  /** Restores a checkpointed timer: the profile stays on disk until its timer fires or an event arrives. */
  restoreTimer(space: string, id: string, wake: number): void {
    this.timers.push(wake, { space, id });
  }

  // Input ---------------------------------------------------------------------------------------

  /** Applies one event to profile `profileId` at the current watermark. */
  apply(event: FlockEvent, profileId: string): void {
    const sr = this.space(event.space);
    const slot = this.slot(event.space, profileId);
    const st = slot.state;
    const now = this.w;
    if (now > st.lastSeen) st.lastSeen = now;
    const ctxTraits = (event.context as { traits?: unknown } | null)?.traits;
    if (ctxTraits !== null && typeof ctxTraits === 'object' && !Array.isArray(ctxTraits)) {
      this.applyTraits(slot, ctxTraits as Record<string, unknown>, event.timestamp);
    }
    if (event.type === 'identify' && event.traits !== null) this.applyTraits(slot, event.traits, event.timestamp);
    if (event.event !== null) {
      const nodes = sr.plan.aggregatesByEvent.get(event.event);
      if (nodes !== undefined) {
        for (const i of nodes) {
          const node = sr.plan.aggregates[i]!;
          if (node.filter !== null && !node.filter(event)) continue;
          let agg = st.aggs.get(node.fp);
          if (agg === undefined) {
            agg = createAggregate(now);
            st.aggs.set(node.fp, agg);
          }
          touch(agg, event.timestamp);
          const x = reducerInput(node.spec, node.value === null ? null : node.value(event), node.asArray);
          if (x !== IGNORED) insert(node.spec, agg, event.timestamp, x, now);
          else if (keepsIgnored(node.spec)) insert(node.spec, agg, event.timestamp, null, now);
          else advance(node.spec, agg, now);
          slot.aggs.push(i);
        }
      }
    }
    this.enqueue(slot);
  }

  private applyTraits(slot: Slot, traits: Readonly<Record<string, unknown>>, ts: number): void {
    const st = slot.state;
    for (const key of Object.keys(traits)) {
      const at = st.traitAt[key];
      if (at !== undefined && ts < at) continue; // an older write: the newer value stays
      st.traitAt[key] = ts;
      const v = traits[key];
      if (v === null || v === undefined) {
        if (!(key in st.traits)) continue;
        delete st.traits[key];
      } else {
        if (st.traits[key] === v) continue;
        st.traits[key] = v;
      }
      slot.traits.push(key);
    }
  }

  private enqueue(slot: Slot): void {
    if (!slot.queued) {
      slot.queued = true;
      this.queue.push(slot);
    }
    this.markPersist(slot);
  }

  private markPersist(slot: Slot): void {
    if (!slot.persist) {
      slot.persist = true;
      this.toPersist.push(slot);
    }
  }

  // Time ----------------------------------------------------------------------------------------

  /** Moves the watermark to `t` (no-op if not later), firing every timer before it at its own instant. */
  advanceTo(t: number): void {
    if (!(t > this.w)) return;
    this.close();
    while (this.timers.peekTime() < t) {
      const tau = this.timers.peekTime();
      this.w = tau;
      this.fireAt(tau);
      this.close();
    }
    this.w = t;
    this.fireAt(t);
  }

  /** Evaluates every profile touched at the open instant. */
  close(): void {
    const queue = this.queue;
    if (queue.length === 0) return;
    const now = this.w;
    const emit = this.onChange;
    for (let i = 0; i < queue.length; i++) {
      const slot = queue[i]!;
      slot.queued = false;
      // A checkpoint may have taken this slot while it was pending: its evaluation is a new change.
      this.markPersist(slot);
      const sr = this.space(slot.state.space);
      sr.evaluate(slot, now, emit);
      const before = slot.state.wake;
      const wake = sr.wakeOf(slot.state);
      slot.state.wake = wake;
      if (wake !== before && wake !== Number.POSITIVE_INFINITY) this.timers.push(wake, slot);
    }
    queue.length = 0;
  }

  private fireAt(tau: number): void {
    while (this.timers.peekTime() === tau) {
      const item = this.timers.pop();
      const slot = item instanceof Slot ? item : this.slot(item.space, item.id);
      const st = slot.state;
      if (st.wake !== tau) continue; // superseded timer
      const plan = this.space(st.space).plan;
      for (const [fp, agg] of st.aggs) {
        const i = plan.aggregateByFp.get(fp);
        if (i === undefined) continue;
        const spec = plan.aggregates[i]!.spec;
        if (nextChange(spec, agg) <= tau) {
          advance(spec, agg, tau);
          slot.aggs.push(i);
        }
      }
      for (const [fp, t] of st.flips) if (t <= tau) slot.flips.push(fp);
      st.wake = Number.NaN; // forces a new timer after evaluation
      this.enqueue(slot);
    }
  }

  // Live mode -----------------------------------------------------------------------------------

  /**
   * A live batch at wall-clock time `now`: the instant is `max(now, W + 1)` so every batch gets an
   * instant of its own; events are applied there and the instant is closed.
   */
  live(events: ReadonlyArray<{ event: FlockEvent; profileId: string }>, now: number): void {
    this.advanceTo(Math.max(now, this.w + 1));
    for (const { event, profileId } of events) this.apply(event, profileId);
    this.close();
  }

  /**
   * Event-time replay: the watermark follows event time (never beyond `cap`, the wall clock, so an
   * event from the future waits for its instant); the last instant stays open.
   */
  replay(events: ReadonlyArray<{ event: FlockEvent; profileId: string }>, cap = Number.POSITIVE_INFINITY): void {
    for (const { event, profileId } of events) {
      const t = Math.min(event.timestamp, cap);
      if (t > this.w) this.advanceTo(t);
      this.apply(event, profileId);
    }
  }

  // Checkpoint support --------------------------------------------------------------------------

  /** The slots changed since the last call (their state must be written at the next checkpoint). */
  takePersist(): Slot[] {
    const out = this.toPersist.splice(0);
    for (const s of out) s.persist = false;
    return out;
  }

  /** The open instant's pending work, as plain data for a checkpoint. */
  pendingEntries(): PendingEntry[] {
    return this.queue.map((slot) => {
      const plan = this.space(slot.state.space).plan;
      return {
        space: slot.state.space,
        id: slot.state.id,
        all: slot.all,
        aggs: slot.aggs.map((i) => plan.aggregates[i]!.fp),
        traits: [...slot.traits],
        flips: [...slot.flips],
      };
    });
  }

  /** Re-queues a checkpointed pending profile after a restart. */
  restorePending(space: string, id: string, pending: PendingEntry): void {
    const slot = this.slot(space, id);
    const plan = this.space(space).plan;
    slot.all ||= pending.all;
    for (const fp of pending.aggs) {
      const i = plan.aggregateByFp.get(fp);
      if (i !== undefined) slot.aggs.push(i);
    }
    slot.traits.push(...pending.traits);
    slot.flips.push(...pending.flips);
    this.enqueue(slot);
  }

  /** The earliest timer instant (possibly superseded), or Infinity. */
  nextTimer(): number {
    return this.timers.peekTime();
  }

  /** Number of profiles held in memory. */
  get size(): number {
    return this.slots.size;
  }
}
