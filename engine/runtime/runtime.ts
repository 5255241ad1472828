/** The incremental evaluator: applies events to per-profile state, fires timers at exact instants and emits changes. */
import {
  advance,
  aggregateValue,
  createAggregate,
  insert,
  mergeAggregates,
  IGNORED,
  keepsIgnored,
  nextChange,
  reducerInput,
  touch,
} from '../../operators/kernels/window-aggregate.ts';
import { TimerHeap } from '../../operators/kernels/timer-heap.ts';
import { nextCountFlip } from '../../operators/kernels/count-flip.ts';
import {
  compactInstances,
  createInstances,
  insertInstance,
  mergeInstances,
  nextInstanceChange,
  type InstanceState,
} from '../../operators/kernels/instance-store.ts';
import type { AggregateState } from '../../operators/kernels/window-aggregate.ts';
import type { InstanceProgram } from '../plan/compile-instances.ts';
import type { FlockEvent } from '../event/model.ts';
import { getPath } from '../eval/values.ts';
import type { CompiledDefinition, EvalContext, Plan } from '../plan/plan.ts';
import { causeOf, causeTag, changeId, TIME_CAUSE, type Change, type ChangeCause } from './change.ts';
import { accountProfileId, bindProfile, createProfileState, groupAccountOf, profileToPlain, type DefinitionCell, type NodeState, type ProfileState } from './profile-state.ts';

/** Pending work of one profile at the open instant (checkpointed so a restart resumes it). */
export interface PendingEntry {
  readonly space: string;
  readonly id: string;
  readonly all: boolean;
  readonly aggs: readonly string[];
  readonly traits: readonly string[];
  readonly flips: readonly string[];
  /** (accounts) fingerprints of hidden user-level definitions that flipped for its users. */
  readonly hidden?: readonly string[];
  /** every definition is due (after a merge or a new member). */
  readonly everything?: boolean;
  /** the message id of the last event (or merge) that touched it at the open instant. */
  readonly cause?: string;
  /** the message ids of the events applied to it at the open instant, in order (see `Slot.causes`)… */
  readonly causes?: readonly string[];
  /** … and, parallel to `aggs`, `traits` and `hidden`, the index in `causes` of the event behind each (−1: none). */
  readonly aggCauses?: readonly number[];
  readonly traitCauses?: readonly number[];
  readonly hiddenCauses?: readonly number[];
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

/** One event for the runtime: its canonical profile, and the merges its identifiers caused (done first). */
export interface RuntimeInput {
  readonly event: FlockEvent;
  readonly profileId: string;
  readonly merges?: ReadonlyArray<{ readonly from: string; readonly into: string }>;
}

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
  /**
   * A sum read by these definitions (keys) of `space` overflowed the double range, so they read it as
   * no value — called once per definition (for a log line).
   */
  readonly onOverflow?: (space: string, definitions: readonly string[]) => void;
  /**
   * A partitioned worker: whether a profile is one of its partitions' (`resolvedPartition`). Only
   * those publish changes and only those accounts are kept here; the other users it holds are
   * shadows — users linked to one of its accounts, fed the same events, keeping and evaluating what
   * its accounts read of them (the hidden conditions, what those read, the merged nodes), muted:
   * their own worker publishes their changes. Unset: every profile is this runtime's.
   */
  readonly owns?: (id: string) => boolean;
}

/** A copy of a profile for a worker that starts shadowing it (`Runtime.copy`, `Runtime.shadow`): its state and its work pending at the open instant. */
export interface ProfileCopy {
  /** `profileToPlain` of the state. */
  readonly state: unknown;
  readonly pending: PendingEntry | null;
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
  /** evaluate every definition from the profile's state (after a merge), not from the baseline. */
  everything = false;
  /** absorbed by a merge: the next checkpoint deletes it. */
  removed = false;
  /** a shadow (`RuntimeOptions.owns`): it keeps and evaluates what its accounts read, its changes not published (the hidden conditions they count still flip). */
  muted = false;
  /** (accounts) hidden user-level definitions that flipped for one of the account's users. */
  hiddenFlips: number[] = [];
  /**
   * (accounts) per hidden user-level definition, how many of the account's users satisfy it, kept up
   * to date as users' conditions flip; counted again (from the users) when `quantPlan` is not the
   * plan: after a load, a link change, a merge or a new plan.
   */
  quantCounts: Int32Array | null = null;
  quantUsers = 0;
  quantPlan: Plan | null = null;
  /** fingerprints of the nodes whose state changed since the last checkpoint (derived changes — expiry, compaction — are not tracked: they replay identically). */
  dirtyNodes: string[] = [];
  /** the message id of the last event (or merge) that touched the profile at the open instant; null: only time did (a timer). */
  cause: string | null = null;
  /**
   * The message ids of the events applied to the profile at the open instant, in order, and parallel
   * to `aggs`, `traits` and `hiddenFlips` the index here of the event that touched each (−1: none):
   * a change's cause is the latest event that touched what its definition reads.
   */
  causes: string[] = [];
  aggCauses: number[] = [];
  traitCauses: number[] = [];
  hiddenCauses: number[] = [];
  constructor(
    readonly key: string,
    public state: ProfileState,
  ) {}
}

class SpaceRuntime implements EvalContext {
  /** the space id (set by the runtime). */
  space = '';
  now = 0;
  flip = Number.POSITIVE_INFINITY;
  slot: Slot | null = null;
  private epoch = 0;
  private readonly mark: Int32Array;
  /** per definition, in one evaluation: the index in the slot's `causes` of the latest event that touched what it reads (valid when `whyEpoch` is the epoch). */
  private readonly why: Int32Array;
  private readonly whyEpoch: Int32Array;
  private readonly memoEpoch: Int32Array;
  private readonly memo: unknown[];
  private readonly stateEpoch: Int32Array;
  private readonly stateMemo: Array<NodeState | undefined>;
  readonly empty: unknown[];
  /** every definition's output on a profile with no events, traits or links: where a new profile starts. */
  readonly baseline: { readonly users: ReadonlyArray<readonly [number, unknown]>; readonly accounts: ReadonlyArray<readonly [number, unknown]> };

  /** indices of the hidden user-level definitions (conditions under ANY / ALL). */
  private readonly hidden: readonly number[];
  /** the plan has account definitions. */
  readonly hasAccounts: boolean;
  /**
   * (shadows) what accounts read of a user, by index: the hidden conditions and the definitions
   * they read (1 in `shadowDefinitions`), their nodes and the nodes merged over users (1 in
   * `shadowNodes`). A shadow keeps and evaluates these only.
   */
  readonly shadowDefinitions: Uint8Array;
  readonly shadowNodes: Uint8Array;

  constructor(readonly plan: Plan) {
    this.hidden = plan.definitions.filter((d) => d.hidden).map((d) => d.index);
    this.hasAccounts = plan.definitions.some((d) => d.collection === 'accounts');
    this.shadowDefinitions = new Uint8Array(plan.definitions.length);
    this.shadowNodes = new Uint8Array(plan.aggregates.length);
    for (const node of plan.aggregates) if (node.accountDependents.length > 0) this.shadowNodes[node.index] = 1;
    const reads = [...this.hidden];
    while (reads.length > 0) {
      const d = reads.pop()!;
      if (this.shadowDefinitions[d] === 1) continue;
      this.shadowDefinitions[d] = 1;
      const def = plan.definitions[d]!;
      for (const i of def.aggregates) this.shadowNodes[i] = 1;
      reads.push(...def.references);
    }
    this.mark = new Int32Array(plan.definitions.length);
    this.why = new Int32Array(plan.definitions.length);
    this.whyEpoch = new Int32Array(plan.definitions.length);
    this.memoEpoch = new Int32Array(plan.aggregates.length);
    this.memo = new Array(plan.aggregates.length);
    this.stateEpoch = new Int32Array(plan.aggregates.length);
    this.stateMemo = new Array(plan.aggregates.length);
    this.empty = plan.aggregates.map((a) => aggregateValue(a.spec, createAggregate(a.spec, 0)));
    const baseline = (id: string) => {
      const probe = new Slot('', createProfileState('', id, 0, plan));
      for (let d = 0; d < plan.definitions.length; d++) probe.flips.push(plan.definitions[d]!.fp);
      this.evaluate(probe, 0, () => {});
      return plan.definitions
        .filter((d) => probe.state.cells[d.index]?.v !== undefined)
        .map((d) => [d.index, probe.state.cells[d.index]!.v] as const);
    };
    this.baseline = { users: baseline(''), accounts: baseline(accountProfileId('')) };
  }

  /** A user's state by profile id (set by the runtime; accounts read their users through it). */
  userState: (id: string) => ProfileState | undefined = () => undefined;
  /** A sum node overflowed the double range for the profile being evaluated (set by the runtime: a metric and a notice). */
  overflowed: (node: number) => void = () => {};
  /** A hidden user-level definition flipped for a user (because of event `messageId`, null: time): the runtime marks the user's accounts. */
  hiddenFlipped: (slot: Slot, definition: number, satisfied: boolean, messageId: string | null) => void = () => {};

  /** The node's state for the profile being evaluated: its own, or — for an account — merged over its users. */
  private nodeState(index: number): NodeState | undefined {
    const st = this.slot!.state;
    if (st.collection === 'users') return st.aggs[index];
    if (this.stateEpoch[index] === this.epoch) return this.stateMemo[index];
    const node = this.plan.aggregates[index]!;
    const now = this.now;
    let merged: NodeState | undefined;
    for (const id of st.links) {
      const user = this.userState(id);
      if (user === undefined) continue;
      bindProfile(user, this.plan);
      const own = user.aggs[index];
      if (own === undefined) continue;
      if (node.program !== null) {
        const store = node.program.store;
        compactInstances(store, own as InstanceState, now);
        merged = merged === undefined ? own : mergeInstances(store, merged as InstanceState, own as InstanceState, now);
      } else {
        advance(node.spec, own as AggregateState, now);
        merged = merged === undefined ? own : mergeAggregates(node.spec, merged as AggregateState, own as AggregateState, now);
      }
    }
    this.stateEpoch[index] = this.epoch;
    this.stateMemo[index] = merged;
    return merged;
  }

  quantified(index: number, mode: 'any' | 'all' | 'none'): boolean {
    const slot = this.slot!;
    if (slot.quantPlan !== this.plan) this.countUsers(slot);
    const users = slot.quantUsers;
    const satisfied = slot.quantCounts![index]!;
    return mode === 'any' ? satisfied > 0 : mode === 'all' ? users > 0 && satisfied === users : satisfied === 0;
  }

  /** Counts, per hidden user-level definition, the account's users that satisfy it (once; then kept by `hiddenFlipped`). */
  private countUsers(slot: Slot): void {
    const counts = new Int32Array(this.plan.definitions.length);
    let users = 0;
    for (const id of slot.state.links) {
      const user = this.userState(id);
      if (user === undefined) continue;
      bindProfile(user, this.plan);
      users++;
      const cells = user.cells;
      for (let j = 0; j < this.hidden.length; j++) {
        const d = this.hidden[j]!;
        if (cells[d]?.v === true) counts[d]!++;
      }
    }
    slot.quantCounts = counts;
    slot.quantUsers = users;
    slot.quantPlan = this.plan;
  }

  // EvalContext -------------------------------------------------------------------------------
  aggregate(index: number): unknown {
    if (this.memoEpoch[index] === this.epoch) return this.memo[index];
    const node = this.plan.aggregates[index]!;
    const st = this.nodeState(index);
    let v: unknown;
    if (st === undefined) v = this.empty[index];
    else if (node.program !== null) {
      const inst = st as InstanceState;
      compactInstances(node.program.store, inst, this.now);
      v = node.program.value({ now: this.now, state: inst, ctx: this });
    } else {
      advance(node.spec, st as AggregateState, this.now);
      v = aggregateValue(node.spec, st as AggregateState);
      // (a sum has no value only when its exact value is beyond the double range)
      if (v === null && node.spec.reducer.kind === 'sum') this.overflowed(index);
    }
    this.memoEpoch[index] = this.epoch;
    this.memo[index] = v;
    return v;
  }
  touched(index: number): boolean {
    const st = this.nodeState(index);
    return st !== undefined && st.e0 <= this.now;
  }
  trait(path: readonly string[]): unknown {
    return getPath(this.slot!.state.traits, path);
  }
  output(index: number): unknown {
    const def = this.plan.definitions[index]!;
    const v = this.slot!.state.cells[index]?.v;
    return def.input.kind === 'audience' ? v === true : v;
  }
  flipAt(t: number): void {
    if (t < this.flip) this.flip = t;
  }
  aggregateFlip(index: number, test: ((value: number) => boolean) | null, args: readonly unknown[]): void {
    const node = this.plan.aggregates[index]!;
    const st = this.nodeState(index);
    if (st === undefined) return; // no state: nothing changes until an event comes
    let t: number;
    if (node.program !== null) {
      // Instances are decided when read: any instant an instance's standing may change.
      compactInstances(node.program.store, st as InstanceState, this.now);
      t = nextInstanceChange(node.program.store, st as InstanceState);
    } else {
      const agg = st as AggregateState;
      advance(node.spec, agg, this.now); // (idempotent) the next change is relative to now
      t = test === null ? nextChange(node.spec, agg) : nextCountFlip(node.spec, agg, test, args);
    }
    if (t < this.flip) this.flip = t;
  }

  /** Schedules a definition's flip (set by the runtime that owns the timers). */
  schedule: (time: number, slot: Slot, fp: string) => void = () => {};

  /**
   * Evaluates the pending definitions of `slot` at `now` in dependency order; emits changes. A
   * change's cause is the latest event of the instant that touched a node or trait its definition
   * reads (or, through a definition it reads, that definition's cause); with none, time — or, when
   * every definition is evaluated (a new profile, a merge, a new account member), what did that.
   */
  evaluate(slot: Slot, now: number, emit: (c: Change) => void): void {
    const plan = this.plan;
    const defs = plan.definitions;
    const st = slot.state;
    bindProfile(st, plan);
    const cells = st.cells;
    this.slot = slot;
    this.now = now;
    const epoch = ++this.epoch;
    const mark = this.mark;
    const why = this.why;
    const whyEpoch = this.whyEpoch;
    const collection = st.collection;
    const accounts = collection === 'accounts';
    // What no event of the instant explains: time, unless everything is evaluated because of an
    // event or a merge (built once, and only when something changes).
    let fallback: ChangeCause | undefined;
    const fallbackMessage = slot.everything || slot.all ? slot.cause : null;
    let first = defs.length;
    if (slot.everything) {
      // After a merge or a new link: every output is recomputed from the profile's state.
      for (let d = 0; d < defs.length; d++) mark[d] = epoch;
      first = 0;
      slot.everything = false;
      slot.all = false;
    }
    if (slot.all) {
      // A new profile starts from the empty profile's outputs (no evaluation needed for those),
      // caused by the event that created it.
      let born: ChangeCause | undefined;
      for (const [d, value] of accounts ? this.baseline.accounts : this.baseline.users) {
        const def = defs[d]!;
        cells[d] = { v: value, at: now, flip: Number.POSITIVE_INFINITY };
        if (def.hidden || slot.muted) continue;
        born ??= causeOf(slot.causes[0] ?? slot.cause);
        emit(def.input.kind === 'audience' ? membershipChange(def, st, now, true, born) : traitChange(def, st, now, value, undefined, born));
      }
    }
    const aggs = slot.aggs;
    const aggCauses = slot.aggCauses;
    for (let i = 0; i < aggs.length; i++) {
      const node = plan.aggregates[aggs[i]!]!;
      const c = aggCauses[i] ?? -1;
      if (accounts) {
        for (const d of node.accountDependents) {
          this.blame(d, c);
          mark[d] = epoch;
          if (d < first) first = d;
        }
        continue;
      }
      const dependents = node.dependents;
      const polarity = node.polarity;
      for (let j = 0; j < dependents.length; j++) {
        const d = dependents[j]!;
        // A new event only adds to a count: a definition monotone in it cannot flip from the side
        // it is on (its flip timer stays valid, at worst early).
        const p = polarity[j]!;
        if (p !== 0 && (cells[d]?.v === true) === p > 0) continue;
        this.blame(d, c);
        if (mark[d] === epoch) continue;
        mark[d] = epoch;
        if (d < first) first = d;
      }
    }
    for (let i = 0; i < slot.traits.length; i++) {
      const dependents = plan.definitionsByTrait.get(slot.traits[i]!);
      if (dependents === undefined) continue;
      const c = slot.traitCauses[i] ?? -1;
      for (let j = 0; j < dependents.length; j++) {
        const d = dependents[j]!;
        this.blame(d, c);
        mark[d] = epoch;
        if (d < first) first = d;
      }
    }
    for (let i = 0; i < slot.flips.length; i++) {
      const d = plan.definitionByFp.get(slot.flips[i]!);
      if (d === undefined) continue;
      mark[d] = epoch;
      if (d < first) first = d;
    }
    for (let i = 0; i < slot.hiddenFlips.length; i++) {
      const c = slot.hiddenCauses[i] ?? -1;
      for (const d of defs[slot.hiddenFlips[i]!]!.accountDependents) {
        this.blame(d, c);
        mark[d] = epoch;
        if (d < first) first = d;
      }
    }
    slot.all = false;
    slot.aggs.length = 0;
    slot.aggCauses.length = 0;
    slot.traits.length = 0;
    slot.traitCauses.length = 0;
    slot.flips.length = 0;
    slot.hiddenFlips.length = 0;
    slot.hiddenCauses.length = 0;

    for (let d = first; d < defs.length; d++) {
      if (mark[d] !== epoch) continue;
      const def = defs[d]!;
      if (def.collection !== collection) continue;
      // (a shadow: only what its accounts read)
      if (slot.muted && this.shadowDefinitions[d] === 0) continue;
      this.flip = Number.POSITIVE_INFINITY;
      const value = def.evaluate(this);
      const flip = this.flip;
      let cell = cells[d];
      const previous = cell?.v;
      let changed = false;
      const isAudience = def.input.kind === 'audience';
      const next = isAudience ? (value === true ? true : undefined) : value;
      if (isAudience ? next !== previous : !sameValue(previous, next)) {
        changed = true;
        const blamed = whyEpoch[d] === epoch;
        const messageId = blamed ? slot.causes[why[d]!]! : fallbackMessage;
        if (def.hidden) this.hiddenFlipped(slot, d, next === true, messageId);
        else if (!slot.muted) {
          const cause = blamed ? causeOf(messageId) : (fallback ??= fallbackMessage === null ? TIME_CAUSE : causeOf(fallbackMessage));
          emit(isAudience ? membershipChange(def, st, now, next === true, cause) : traitChange(def, st, now, next, previous, cause));
        }
        const dependents = def.dependents;
        for (let j = 0; j < dependents.length; j++) {
          const dep = dependents[j]!;
          mark[dep] = epoch;
          if (blamed) this.blame(dep, why[d]!);
        }
      }
      if (cell === undefined) {
        if (next !== undefined || flip !== Number.POSITIVE_INFINITY) cells[d] = cell = { v: next, at: now, flip };
      } else if (next === undefined && flip === Number.POSITIVE_INFINITY) cells[d] = undefined;
      else {
        if (changed) {
          cell.v = next;
          cell.at = now;
        }
        if (cell.flip === flip) continue; // its timer is already scheduled
        cell.flip = flip;
      }
      if (flip !== Number.POSITIVE_INFINITY) this.schedule(flip, slot, def.fp);
    }
    slot.cause = null;
    slot.causes.length = 0;
    this.slot = null;
  }

  /** Notes that event `c` (an index in the slot's `causes`; −1: none) touched what definition `d` reads; the latest wins. */
  private blame(d: number, c: number): void {
    if (c < 0) return;
    if (this.whyEpoch[d] !== this.epoch || this.why[d]! < c) {
      this.why[d] = c;
      this.whyEpoch[d] = this.epoch;
    }
  }

  /** The profile's next timer (for the checkpoint's timer index): the earliest flip of its definitions. */
  wakeOf(st: ProfileState): number {
    bindProfile(st, this.plan);
    let wake = Number.POSITIVE_INFINITY;
    const cells = st.cells;
    for (let i = 0; i < cells.length; i++) {
      const c = cells[i];
      if (c !== undefined && c.flip < wake) wake = c.flip;
    }
    return wake;
  }
}

function membershipChange(def: CompiledDefinition, st: ProfileState, at: number, isIn: boolean, cause: ChangeCause): Change {
  const input = def.input;
  if (st.collection === 'accounts') {
    return { ...accountBase(def, st, at, isIn ? 'e' : 'x', cause), kind: isIn ? 'enter' : 'exit', audienceKey: input.key };
  }
  return {
    id: changeId(input.id, input.version, st.id, at, isIn ? 'e' : 'x', causeTag(cause)),
    space: st.space,
    collection: 'users',
    definitionId: input.id,
    version: input.version,
    profileId: st.id,
    at,
    cause,
    kind: isIn ? 'enter' : 'exit',
    audienceKey: input.key,
  };
}

function accountBase(def: CompiledDefinition, st: ProfileState, at: number, direction: 'e' | 'x' | 't', cause: ChangeCause) {
  const input = def.input;
  return {
    id: changeId(input.id, input.version, st.id, at, direction, causeTag(cause)),
    space: st.space,
    collection: 'accounts' as const,
    definitionId: input.id,
    version: input.version,
    profileId: st.id,
    at,
    cause,
    users: [...st.links],
  };
}

function traitChange(def: CompiledDefinition, st: ProfileState, at: number, value: unknown, previous: unknown, cause: ChangeCause): Change {
  const input = def.input;
  if (st.collection === 'accounts') return { ...accountBase(def, st, at, 't', cause), kind: 'trait', traitKey: input.key, value, previous };
  return {
    id: changeId(input.id, input.version, st.id, at, 't', causeTag(cause)),
    space: st.space,
    collection: 'users',
    definitionId: input.id,
    version: input.version,
    profileId: st.id,
    at,
    cause,
    kind: 'trait',
    traitKey: input.key,
    value,
    previous,
  };
}

/** The index of event `messageId` in the slot's `causes` (appended unless it is the last one already). */
function noteCause(slot: Slot, messageId: string): number {
  const causes = slot.causes;
  const n = causes.length;
  if (n > 0 && causes[n - 1] === messageId) return n - 1;
  causes.push(messageId);
  return n;
}

function byKey(a: Slot, b: Slot): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
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
  /** values mode/unique dropped at their distinct-value cap (a metric). */
  droppedValues = 0;
  /** reads of a sum beyond the double range, which then has no value (a metric: once per profile, node and evaluation). */
  overflowedValues = 0;
  /** definitions (`space\0id`) whose overflow was reported through `onOverflow`. */
  private readonly overflowReported = new Set<string>();
  private readonly onOverflow: ((space: string, definitions: readonly string[]) => void) | undefined;
  /** profiles absorbed by a merge (their records are deleted at the next checkpoint). */
  private readonly absorbed = new Set<string>();
  /** (instant, profile, definition) timers; a `null` key is a checkpointed profile still on disk. */
  private readonly timers = new TimerHeap<Slot | { readonly space: string; readonly id: string }, string | null>();
  private readonly queue: Slot[] = [];
  private readonly accountQueue: Slot[] = [];
  /** pending profiles restored from a checkpoint, queued at the runtime's first use (`resumePending`). */
  private readonly deferredPending: PendingEntry[] = [];
  /** slots changed since the last `takePersist()`. */
  private readonly toPersist: Slot[] = [];
  private readonly source: ProfileSource | undefined;
  private readonly onChange: (change: Change) => void;
  private readonly owns: ((id: string) => boolean) | undefined;
  private w: number;
  /** definition timers that fired (time-driven flips evaluated) since the start: the engine's `exits` probe. */
  timersFired = 0;

  constructor(options: RuntimeOptions) {
    for (const [space, plan] of options.plans) this.spaces.set(space, this.bind(new SpaceRuntime(plan), space));
    this.source = options.source;
    this.onChange = options.onChange;
    this.onOverflow = options.onOverflow;
    this.owns = options.owns;
    this.w = options.watermark ?? Number.NEGATIVE_INFINITY;
  }

  get watermark(): number {
    return this.w;
  }

  /** Replaces a space's plan (definitions added, edited or removed). */
  setPlan(space: string, plan: Plan): void {
    this.closeInstant();
    this.spaces.set(space, this.bind(new SpaceRuntime(plan), space));
  }

  plan(space: string): Plan {
    return this.space(space).plan;
  }

  /** Whether a plan has account definitions (then users are evaluated in a canonical order). */
  private countsUsers(): boolean {
    for (const sr of this.spaces.values()) if (sr.hasAccounts) return true;
    return false;
  }

  private space(space: string): SpaceRuntime {
    let sr = this.spaces.get(space);
    if (sr === undefined) {
      sr = this.bind(new SpaceRuntime(EMPTY_PLAN), space);
      this.spaces.set(space, sr);
    }
    return sr;
  }

  private bind(sr: SpaceRuntime, space: string): SpaceRuntime {
    sr.space = space;
    sr.schedule = (time, slot, fp) => this.timers.push(time, slot, fp);
    sr.userState = (id) => (this.exists(sr.space, id) ? this.slot(sr.space, id).state : undefined);
    sr.overflowed = (index) => {
      this.overflowedValues++;
      const node = sr.plan.aggregates[index]!;
      const fresh: string[] = [];
      const defs = sr.plan.definitions;
      // (a hidden user-level condition is reported as the account definitions that count it)
      const readers = [...node.dependents, ...node.accountDependents].flatMap((d) => (defs[d]!.hidden ? defs[d]!.accountDependents : [d]));
      for (const d of readers) {
        const def = defs[d]!;
        const key = `${space}\u0000${def.input.id}`;
        if (this.overflowReported.has(key)) continue;
        this.overflowReported.add(key);
        fresh.push(def.input.key);
      }
      if (fresh.length > 0) this.onOverflow?.(space, fresh);
    };
    sr.hiddenFlipped = (slot, d, satisfied, messageId) => {
      // A user-level condition under ANY/ALL flipped: the user's accounts update their counts.
      for (const account of slot.state.links) {
        const a = this.slot(slot.state.space, account);
        if (a.quantPlan === sr.plan) a.quantCounts![d]! += satisfied ? 1 : -1;
        a.hiddenFlips.push(d);
        a.hiddenCauses.push(messageId === null ? -1 : noteCause(a, messageId));
        a.cause = slot.cause;
        this.enqueue(a);
      }
    };
    return sr;
  }

  /** The in-memory slot of a profile, loading it from the checkpoint or creating it. */
  slot(space: string, id: string): Slot {
    const key = `${space}\u0000${id}`;
    let slot = this.slots.get(key);
    if (slot !== undefined) return slot;
    const plan = this.space(space).plan;
    const loaded = this.absorbed.has(key) ? undefined : this.source?.load(space, id);
    slot = new Slot(key, loaded ?? createProfileState(space, id, this.w, plan));
    if (this.owns !== undefined) slot.muted = !this.owns(id);
    if (loaded === undefined) {
      slot.all = true;
      slot.state.firstSeen = Number.POSITIVE_INFINITY; // its first event's timestamp, once applied
    }
    else {
      slot.savedWake = loaded.wake;
      bindProfile(loaded, plan);
      const cells = loaded.cells;
      for (let d = 0; d < cells.length; d++) {
        const cell = cells[d];
        if (cell !== undefined && cell.flip !== Number.POSITIVE_INFINITY) this.timers.push(cell.flip, slot, plan.definitions[d]!.fp);
      }
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
    this.timers.push(wake, { space, id }, null);
  }

  /** Whether a profile exists (in memory, or on disk and not absorbed by a merge since). */
  exists(space: string, id: string): boolean {
    const key = `${space}\u0000${id}`;
    if (this.slots.has(key)) return true;
    if (this.absorbed.has(key)) return false;
    return this.source?.load(space, id) !== undefined;
  }

  /**
   * Merges profile `from` into profile `into` at the current instant (identity resolution linked
   * them): every aggregate state is merged, custom traits keep the newest write, and every definition
   * is re-evaluated for the survivor — as if all events had been seen under one profile. The absorbed
   * profile leaves every audience and loses every computed trait (those changes are emitted at this
   * instant) and is deleted at the next checkpoint. `messageId`: the event whose identifiers linked them (the changes' cause).
   */
  merge(space: string, from: string, into: string, messageId?: string): void {
    this.resumePending();
    if (from === into || !this.exists(space, from)) return;
    const plan = this.space(space).plan;
    const a = this.slot(space, from);
    const b = this.slot(space, into);
    const src = a.state;
    const dst = b.state;
    bindProfile(src, plan);
    bindProfile(dst, plan);
    const now = this.w;
    for (let i = 0; i < src.aggs.length; i++) {
      const other = src.aggs[i];
      if (other === undefined) continue;
      const mine = dst.aggs[i];
      const node = plan.aggregates[i]!;
      if (node.program !== null) {
        const store = node.program.store;
        dst.aggs[i] = mine === undefined ? other : mergeInstances(store, mine as InstanceState, other as InstanceState, now);
        continue;
      }
      const spec = node.spec;
      if (mine === undefined) {
        advance(spec, other as AggregateState, now);
        dst.aggs[i] = other;
      } else dst.aggs[i] = mergeAggregates(spec, mine as AggregateState, other as AggregateState, now);
    }
    for (const key of Object.keys(src.traitAt)) {
      const at = src.traitAt[key]!;
      const current = dst.traitAt[key];
      if (current !== undefined && at <= current) continue; // newest write wins; on a tie the survivor's
      dst.traitAt[key] = at;
      if (key in src.traits) dst.traits[key] = src.traits[key];
      else delete dst.traits[key];
    }
    dst.firstSeen = Math.min(dst.firstSeen, src.firstSeen);
    dst.lastSeen = Math.max(dst.lastSeen, src.lastSeen);
    // The absorbed profile leaves everything it was part of.
    // Account links move to the survivor…
    for (const accountId of src.links) {
      const account = this.slot(space, accountId);
      const users = account.state.links.filter((u) => u !== from);
      if (!users.includes(into)) users.push(into);
      account.state.links = users;
      if (!dst.links.includes(accountId)) dst.links.push(accountId);
    }
    src.links = [];
    // …and every account of the survivor — its own ones too, whose aggregates over their users now
    // hold the absorbed profile's events — counts its users again and is evaluated at this instant.
    for (const accountId of dst.links) {
      const account = this.slot(space, accountId);
      account.everything = true;
      account.quantPlan = null;
      account.cause = messageId ?? null;
      this.enqueue(account);
    }
    const cells = src.cells;
    const cause: ChangeCause = messageId === undefined ? { type: 'merge' } : { type: 'merge', messageId };
    for (let d = 0; d < cells.length; d++) {
      const cell = cells[d];
      if (cell === undefined || cell.v === undefined) continue;
      const def = plan.definitions[d]!;
      // (the absorbed profile's exits are published where the survivor is: by its own worker, not by a shadow of it)
      if (def.hidden || b.muted) continue;
      this.onChange(def.input.kind === 'audience' ? membershipChange(def, src, now, false, cause) : traitChange(def, src, now, undefined, cell.v, cause));
    }
    src.cells = [];
    src.aggs = [];
    a.removed = true;
    this.slots.delete(a.key);
    this.absorbed.add(a.key);
    this.markPersist(a);
    // (a shadow survivor keeps, of a whole profile merged into it, what its accounts read)
    this.prune(b);
    for (let i = 0; i < dst.aggs.length; i++) if (dst.aggs[i] !== undefined) b.dirtyNodes.push(plan.aggregates[i]!.fp);
    // The survivor: every definition from the merged state, at this instant.
    b.everything = true;
    b.all = false;
    b.cause = messageId ?? null;
    this.enqueue(b);
  }

  // State transfer (partitioned workers) ------------------------------------------------------

  /**
   * Hands profile `id` over to another worker (a merge absorbs it into a profile another partition
   * owns): its state as it is now — with whatever the open instant applied and did not evaluate —
   * and the profile is gone from here, with no change emitted (the survivor's worker merges it and
   * emits its exits, as `merge` does in one process). Undefined when the profile does not exist.
   */
  detach(space: string, id: string): ProfileState | undefined {
    this.resumePending();
    if (!this.exists(space, id)) return undefined;
    const slot = this.slot(space, id);
    const state = slot.state;
    bindProfile(state, this.space(space).plan);
    slot.removed = true;
    this.slots.delete(slot.key);
    this.absorbed.add(slot.key);
    this.markPersist(slot);
    return state;
  }

  /** Takes in a profile another worker detached (its state transfer), for the merge that absorbs it here. */
  receive(space: string, state: ProfileState): void {
    this.take(space, state);
  }

  /**
   * A copy of profile `id` for a worker that starts shadowing it (it linked to an account of that
   * worker's): its state as it is now and its work pending at the open instant, so the shadow
   * evaluates this instant as the profile does here. Null when the profile does not exist.
   */
  copy(space: string, id: string): ProfileCopy | null {
    this.resumePending();
    if (!this.exists(space, id)) return null;
    const slot = this.slot(space, id);
    bindProfile(slot.state, this.space(space).plan);
    return { state: profileToPlain(slot.state), pending: slot.queued ? this.pendingEntry(slot) : null };
  }

  /**
   * Takes in a copy (`copy`) of a profile another worker computes: from now on this runtime applies
   * its events too — its accounts here read it. Its timers are scheduled, its pending work resumes,
   * and it is written at the next checkpoint (every node: none is in this store yet).
   */
  shadow(space: string, state: ProfileState, pending: PendingEntry | null): void {
    this.resumePending();
    const slot = this.take(space, state);
    const plan = this.space(space).plan;
    this.prune(slot);
    const cells = state.cells;
    for (let d = 0; d < cells.length; d++) {
      const cell = cells[d];
      // (what was due by the open instant fired where the copy was taken: its pending flips)
      if (cell !== undefined && cell.flip > this.w && cell.flip !== Number.POSITIVE_INFINITY) this.timers.push(cell.flip, slot, plan.definitions[d]!.fp);
    }
    for (let i = 0; i < state.aggs.length; i++) if (state.aggs[i] !== undefined) slot.dirtyNodes.push(plan.aggregates[i]!.fp);
    this.markPersist(slot);
    if (pending !== null) this.requeue(pending);
  }

  /** A shadow keeps what its accounts read only (`shadowNodes`, `shadowDefinitions`): the rest of a whole copy is dropped. */
  private prune(slot: Slot): void {
    if (!slot.muted || slot.state.collection !== 'users') return;
    const sr = this.space(slot.state.space);
    const st = slot.state;
    bindProfile(st, sr.plan);
    for (let i = 0; i < st.aggs.length; i++) if (st.aggs[i] !== undefined && sr.shadowNodes[i] === 0) st.aggs[i] = undefined;
    for (let d = 0; d < st.cells.length; d++) if (st.cells[d] !== undefined && sr.shadowDefinitions[d] === 0) st.cells[d] = undefined;
  }

  /**
   * A profile from another worker in this runtime: linked to the accounts of it kept here only. (A
   * shadow held here already — of a profile a merge absorbs into one of this worker's own — gives
   * way to the whole profile, in its slot: what is queued or timed for it stays valid.)
   */
  private take(space: string, state: ProfileState): Slot {
    const key = `${space}\u0000${state.id}`;
    // (held here: in memory, or in the store after a restart)
    const held = this.exists(space, state.id) ? this.slot(space, state.id) : undefined;
    this.absorbed.delete(key);
    const slot = held ?? new Slot(key, state);
    const links = held?.state.links;
    slot.state = state;
    bindProfile(state, this.space(space).plan);
    const owns = this.owns;
    if (owns !== undefined) {
      slot.muted = !owns(state.id);
      // (the accounts here it is linked to: the shadow's, which the other worker does not know)
      state.links = links ?? state.links.filter((account) => owns(account));
    }
    this.slots.set(key, slot);
    return slot;
  }

  // Input ---------------------------------------------------------------------------------------

  /**
   * Applies one event to profile `profileId` at the current watermark. (Per event: restored pending
   * work is resumed by `live` and `replay`, which call this, not here.)
   */
  apply(event: FlockEvent, profileId: string): void {
    const sr = this.space(event.space);
    const slot = this.slot(event.space, profileId);
    const st = slot.state;
    bindProfile(st, sr.plan);
    const now = this.w;
    if (now > st.lastSeen) st.lastSeen = now;
    if (event.timestamp < st.firstSeen) st.firstSeen = event.timestamp;
    slot.cause = event.messageId;
    const c = noteCause(slot, event.messageId);
    const ctxTraits = (event.context as { traits?: unknown } | null)?.traits;
    if (ctxTraits !== null && typeof ctxTraits === 'object' && !Array.isArray(ctxTraits)) {
      this.applyTraits(slot, ctxTraits as Record<string, unknown>, event.timestamp, c);
    }
    if (event.type === 'identify' && event.traits !== null) this.applyTraits(slot, event.traits, event.timestamp, c);
    if (event.event !== null) {
      const nodes = sr.plan.aggregatesByEvent.get(event.event);
      if (nodes !== undefined) {
        const shadow = slot.muted;
        for (const i of nodes) {
          const node = sr.plan.aggregates[i]!;
          if (event.timestamp < node.since || (shadow && sr.shadowNodes[i] === 0)) continue;
          if (node.program !== null) {
            if (this.applyInstance(st, i, node.program, event, now)) {
              slot.aggs.push(i);
              slot.aggCauses.push(c);
              slot.dirtyNodes.push(node.fp);
            }
            continue;
          }
          if (node.filter !== null && !node.filter(event)) continue;
          let agg = st.aggs[i] as AggregateState | undefined;
          if (agg === undefined) {
            agg = createAggregate(node.spec, now);
            st.aggs[i] = agg;
          }
          touch(agg, event.timestamp);
          const x = reducerInput(node.spec, node.value === null ? null : node.value(event, st.traits), node.asArray);
          const dropped = agg.dropped;
          if (x !== IGNORED) insert(node.spec, agg, event.timestamp, x, now);
          else if (keepsIgnored(node.spec)) insert(node.spec, agg, event.timestamp, null, now);
          else advance(node.spec, agg, now);
          // mode/unique keep at most `cap` distinct values per profile; the rest are counted here
          if (agg.dropped !== dropped) this.droppedValues += agg.dropped - dropped;
          slot.aggs.push(i);
          slot.aggCauses.push(c);
          slot.dirtyNodes.push(node.fp);
        }
      }
    }
    const account = st.collection === 'users' ? groupAccountOf(event) : null;
    if (account !== null) this.applyGroup(slot, event, account);
    // The user's accounts read nodes merged over their users: mark the ones this event changed.
    if (st.links.length > 0 && slot.aggs.length > 0) {
      for (let k = 0; k < slot.aggs.length; k++) {
        if (slot.aggCauses[k] !== c) continue; // touched by an earlier event of the instant (passed on then)
        const i = slot.aggs[k]!;
        if (sr.plan.aggregates[i]!.accountDependents.length === 0) continue;
        for (const account of st.links) {
          const a = this.slot(event.space, account);
          a.aggs.push(i);
          a.aggCauses.push(noteCause(a, event.messageId));
          a.cause = event.messageId;
          this.enqueue(a);
        }
      }
    }
    this.enqueue(slot);
  }

  /**
   * A group call: the account (`group_id:<groupId>`) takes the call's traits (newest write wins) and
   * the user joins it; a new member makes every account definition look again. (A partitioned
   * worker keeps only its partitions' accounts: another's is computed by the worker that owns it.)
   */
  private applyGroup(user: Slot, event: FlockEvent, accountId: string): void {
    if (this.owns !== undefined && !this.owns(accountId)) return;
    const account = this.slot(event.space, accountId);
    bindProfile(account.state, this.space(event.space).plan);
    if (!user.state.links.includes(accountId)) {
      user.state.links.push(accountId);
      account.state.links.push(user.state.id);
      account.everything = true;
      account.quantPlan = null;
    }
    if (event.traits !== null) this.applyTraits(account, event.traits, event.timestamp, noteCause(account, event.messageId));
    const now = this.w;
    if (now > account.state.lastSeen) account.state.lastSeen = now;
    if (event.timestamp < account.state.firstSeen) account.state.firstSeen = event.timestamp;
    account.cause = event.messageId;
    this.enqueue(account);
  }

  /** Stores an event in every stream of an instance node it belongs to; true if it was stored. */
  private applyInstance(st: ProfileState, i: number, program: InstanceProgram, event: FlockEvent, now: number): boolean {
    let stored = false;
    const streams = program.streams;
    for (let s = 0; s < streams.length; s++) {
      const stream = streams[s]!;
      if (stream.event !== event.event || (stream.prefilter !== null && !stream.prefilter(event))) continue;
      let inst = st.aggs[i] as InstanceState | undefined;
      if (inst === undefined) {
        inst = createInstances(program.store, now);
        st.aggs[i] = inst;
      }
      const values = stream.captures.map((capture) => capture(event));
      insertInstance(program.store, inst, s, event.timestamp, values, now);
      stored = true;
    }
    return stored;
  }

  /** Applies custom-trait writes of the event at index `cause` of the slot's `causes`. */
  private applyTraits(slot: Slot, traits: Readonly<Record<string, unknown>>, ts: number, cause: number): void {
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
      slot.traitCauses.push(cause);
    }
  }

  private enqueue(slot: Slot): void {
    if (!slot.queued) {
      slot.queued = true;
      (slot.state.collection === 'accounts' ? this.accountQueue : this.queue).push(slot);
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
    this.resumePending();
    if (!(t > this.w)) return;
    this.close();
    while (this.timers.peekTime() < t) {
      // (A timer behind the watermark — restored from a checkpoint — is due now.)
      const tau = Math.max(this.timers.peekTime(), this.w);
      this.w = tau;
      this.fireAt(tau);
      this.close();
    }
    this.w = t;
    this.fireAt(t);
  }

  /**
   * Evaluates every profile touched at the open instant: users first, then accounts, which read
   * their users' outputs and states at this instant.
   */
  close(): void {
    this.resumePending();
    this.closeInstant();
  }

  private closeInstant(): void {
    const now = this.w;
    const emit = this.onChange;
    // Users in profile-id order when accounts count them: an account's change blames the latest of
    // its users' events noted as they are evaluated, and the order users were queued in is this
    // runtime's history — timers tied at one instant, a user shadowed mid-instant — not the log's.
    if (this.queue.length > 1 && this.countsUsers()) this.queue.sort(byKey);
    for (const queue of [this.queue, this.accountQueue]) {
      for (let i = 0; i < queue.length; i++) {
        const slot = queue[i]!;
        slot.queued = false;
        if (slot.removed) continue;
        // A checkpoint may have taken this slot while it was pending: its evaluation is a new change.
        this.markPersist(slot);
        this.space(slot.state.space).evaluate(slot, now, emit);
      }
      queue.length = 0;
    }
  }

  /** Pops every timer due at or before `tau` and queues the definitions that may flip. */
  private fireAt(tau: number): void {
    const timers = this.timers;
    while (timers.peekTime() <= tau) {
      timers.pop();
      const item = timers.poppedItem!;
      const fp = timers.poppedKey!;
      if (fp === null) {
        // A profile still on disk: loading it schedules its definitions' timers (popped next).
        const ref = item as { space: string; id: string };
        if (this.exists(ref.space, ref.id)) this.slot(ref.space, ref.id);
        continue;
      }
      const slot = item as Slot;
      if (slot.removed) continue;
      const st = slot.state;
      const plan = this.space(st.space).plan;
      bindProfile(st, plan);
      const d = plan.definitionByFp.get(fp);
      const cell = d === undefined ? undefined : st.cells[d];
      if (cell === undefined || cell.flip !== timers.poppedTime) continue; // superseded
      this.timersFired++;
      slot.flips.push(fp);
      this.enqueue(slot);
    }
  }

  // Live mode -----------------------------------------------------------------------------------

  /**
   * A live batch at wall-clock time `now`: the instant is `max(now, W + 1)` so every batch gets an
   * instant of its own; events are applied there and the instant is closed. `instants` (optional)
   * receives the instant each event was applied at.
   */
  live(events: ReadonlyArray<RuntimeInput>, now: number, instants?: number[]): void {
    this.resumePending();
    this.advanceTo(Math.max(now, this.w + 1));
    for (const input of events) {
      if (input.merges !== undefined) for (const m of input.merges) this.merge(input.event.space, m.from, m.into, input.event.messageId);
      this.apply(input.event, input.profileId);
      instants?.push(this.w);
    }
    this.close();
  }

  /**
   * Event-time replay: the watermark follows event time (never beyond `cap`, the wall clock, so an
   * event from the future waits for its instant); the last instant stays open. `instants` (optional)
   * receives the instant each event was applied at.
   */
  replay(events: ReadonlyArray<RuntimeInput>, cap = Number.POSITIVE_INFINITY, instants?: number[]): void {
    this.resumePending();
    for (const input of events) {
      const t = Math.min(input.event.timestamp, cap);
      if (t > this.w) this.advanceTo(t);
      if (input.merges !== undefined) for (const m of input.merges) this.merge(input.event.space, m.from, m.into, input.event.messageId);
      this.apply(input.event, input.profileId);
      instants?.push(this.w);
    }
  }

  // Checkpoint support --------------------------------------------------------------------------

  /** The slots changed since the last call (their state must be written at the next checkpoint). */
  takePersist(): Slot[] {
    const out = this.toPersist.splice(0);
    for (const s of out) {
      s.persist = false;
      if (s.removed) s.state.wake = Number.POSITIVE_INFINITY;
      else s.state.wake = this.space(s.state.space).wakeOf(s.state);
    }
    return out;
  }

  /** The node states of `slot` that changed since the last call (for the checkpoint), as [fingerprint, state]. */
  takeDirtyNodes(slot: Slot): Array<[string, NodeState]> {
    const fps = [...new Set(slot.dirtyNodes)];
    slot.dirtyNodes.length = 0;
    const plan = this.space(slot.state.space).plan;
    bindProfile(slot.state, plan);
    const out: Array<[string, NodeState]> = [];
    for (const fp of fps) {
      const i = plan.aggregateByFp.get(fp);
      const st = i === undefined ? undefined : slot.state.aggs[i];
      if (st !== undefined) out.push([fp, st]);
    }
    return out;
  }

  /** The open instant's pending work, as plain data for a checkpoint (restored entries not yet resumed included). */
  pendingEntries(): PendingEntry[] {
    return [...this.deferredPending, ...[...this.queue, ...this.accountQueue].map((slot) => this.pendingEntry(slot))];
  }

  private pendingEntry(slot: Slot): PendingEntry {
    const plan = this.space(slot.state.space).plan;
    return {
      space: slot.state.space,
      id: slot.state.id,
      all: slot.all,
      aggs: slot.aggs.map((i) => plan.aggregates[i]!.fp),
      traits: [...slot.traits],
      flips: [...slot.flips],
      hidden: slot.hiddenFlips.map((d) => plan.definitions[d]!.fp),
      everything: slot.everything,
      ...(slot.cause === null ? {} : { cause: slot.cause }),
      causes: [...slot.causes],
      aggCauses: [...slot.aggCauses],
      traitCauses: [...slot.traitCauses],
      hiddenCauses: [...slot.hiddenCauses],
    };
  }

  /**
   * Re-queues a checkpointed pending profile after a restart — deferred until the runtime is first
   * used: loading a profile binds its state to its space's plan, and a service sets its plans only
   * after the engine opens; a profile loaded before would be bound to no plan and lose every node.
   */
  restorePending(pending: PendingEntry): void {
    this.deferredPending.push(pending);
  }

  /** Loads and queues the restored pending profiles (at the first use of the runtime after a restart). */
  private resumePending(): void {
    if (this.deferredPending.length === 0) return;
    const entries = this.deferredPending.splice(0);
    for (const pending of entries) this.requeue(pending);
  }

  private requeue(pending: PendingEntry): void {
    const { space, id } = pending;
    const slot = this.slot(space, id);
    const plan = this.space(space).plan;
    slot.all ||= pending.all;
    // (a checkpoint written before per-node causes: every node and trait blames its one cause)
    const causes = pending.causes ?? (pending.cause === undefined ? [] : [pending.cause]);
    const index = causes.map((messageId) => noteCause(slot, messageId));
    const causeAt = (list: readonly number[] | undefined, k: number): number => {
      const c = list === undefined ? (causes.length > 0 ? 0 : -1) : (list[k] ?? -1);
      return c < 0 ? -1 : (index[c] ?? -1);
    };
    pending.aggs.forEach((fp, k) => {
      const i = plan.aggregateByFp.get(fp);
      if (i === undefined) return;
      slot.aggs.push(i);
      slot.aggCauses.push(causeAt(pending.aggCauses, k));
    });
    pending.traits.forEach((key, k) => {
      slot.traits.push(key);
      slot.traitCauses.push(causeAt(pending.traitCauses, k));
    });
    slot.flips.push(...pending.flips);
    (pending.hidden ?? []).forEach((fp, k) => {
      const d = plan.definitionByFp.get(fp);
      if (d === undefined) return;
      slot.hiddenFlips.push(d);
      slot.hiddenCauses.push(causeAt(pending.hiddenCauses, k));
    });
    slot.everything ||= pending.everything === true;
    if (pending.cause !== undefined) slot.cause = pending.cause;
    this.enqueue(slot);
  }

  /** The earliest timer instant (possibly superseded), or Infinity. */
  nextTimer(): number {
    return this.timers.peekTime();
  }

  /** The profiles held in memory (loaded or touched in this process), with their current state. */
  *profiles(space: string): Iterable<ProfileState> {
    const plan = this.space(space).plan;
    for (const slot of this.slots.values()) {
      if (slot.state.space !== space || slot.removed) continue;
      bindProfile(slot.state, plan);
      yield slot.state;
    }
  }

  /**
   * Takes over what a backfill computed (`other`: a runtime that replayed the log up to this
   * runtime's position and watermark) for the definitions `definitions` (fingerprints, all in this
   * runtime's plan): every node state a profile here does not have yet — nodes it already has were
   * kept live from the start — and those definitions' cells, with their timers. Returns, per profile,
   * the adopted outputs by definition fingerprint (for the caller to announce).
   */
  adopt(space: string, other: Runtime, definitions: ReadonlySet<string>): Map<string, Map<string, DefinitionCell>> {
    const plan = this.space(space).plan;
    const theirs = other.space(space).plan;
    const adopted = new Map<string, Map<string, DefinitionCell>>();
    for (const source of other.profiles(space)) {
      if (!this.exists(space, source.id)) continue; // (every profile of the log exists here too)
      const slot = this.slot(space, source.id);
      const st = slot.state;
      bindProfile(st, plan);
      for (let j = 0; j < source.aggs.length; j++) {
        const node = source.aggs[j];
        if (node === undefined) continue;
        const fp = theirs.aggregates[j]!.fp;
        const i = plan.aggregateByFp.get(fp);
        if (i === undefined || st.aggs[i] !== undefined) continue;
        st.aggs[i] = node;
        slot.dirtyNodes.push(fp);
      }
      const cells = new Map<string, DefinitionCell>();
      for (let j = 0; j < source.cells.length; j++) {
        const cell = source.cells[j];
        const fp = theirs.definitions[j]?.fp;
        if (cell === undefined || fp === undefined || !definitions.has(fp)) continue;
        const d = plan.definitionByFp.get(fp);
        if (d === undefined) continue;
        st.cells[d] = { v: cell.v, at: cell.at, flip: cell.flip };
        if (cell.flip !== Number.POSITIVE_INFINITY) this.timers.push(cell.flip, slot, fp);
        if (cell.v !== undefined) cells.set(fp, cell);
      }
      if (cells.size > 0) adopted.set(source.id, cells);
      // (a user's adopted conditions under ANY / ALL: its accounts count their users again)
      for (const account of st.links) if (this.exists(space, account)) this.slot(space, account).quantPlan = null;
      this.markPersist(slot);
    }
    return adopted;
  }

  /** Number of profiles held in memory. */
  get size(): number {
    return this.slots.size;
  }
}
