/** Compiles a stream whose `where` needs more than the event itself — funnels (nested events), parent references, trait references — into an instance node. */
import {
  aggregateValue,
  createAggregate,
  IGNORED,
  insert,
  reducerInput,
  type AggregateSpec,
} from '../../operators/kernels/window-aggregate.ts';
import { rootRange, type InstanceState, type InstanceStoreSpec } from '../../operators/kernels/instance-store.ts';
import type { Aggregate, ComparatorArg, Condition, EventStream, Filter, Scalar } from '../lang/ast.ts';
import type { FlockEvent } from '../event/model.ts';
import { compareValues, getPath, InstantArg } from '../eval/values.ts';
import type { EvalContext, EventPredicate } from './plan.ts';

/** Three-valued truth: a funnel condition whose child window is still open may not be decided yet. */
export const FALSE = 0;
export const TRUE = 1;
export const UNKNOWN = 2;
export type Truth = 0 | 1 | 2;

/** What an instance condition reads besides its instances. */
export interface InstanceEnv {
  readonly now: number;
  readonly state: InstanceState;
  /** the definition's evaluation context: traits (and other definitions' outputs) are read through it. */
  readonly ctx: EvalContext;
}

/**
 * The instance being judged, and the chain of parent instances above it — read during the call only:
 * each level of the tree owns one Chain and moves its `index` (and `parent`) instead of allocating.
 */
interface Chain {
  readonly stream: number;
  index: number;
  parent: Chain | null;
}

/** One stream of the tree: which events feed it and what of them is kept. */
export interface InstanceStream {
  readonly event: string;
  /** the conjuncts of `where` that need only the event: checked before storing it. */
  readonly prefilter: EventPredicate | null;
  /** the values kept per instance (properties and context read by the remaining conditions). */
  readonly captures: ReadonlyArray<(e: FlockEvent) => unknown>;
}

export interface InstanceProgram {
  readonly store: InstanceStoreSpec;
  readonly streams: readonly InstanceStream[];
  /** the aggregate's value at `env.now`: the reducer over the root instances whose condition is TRUE. */
  readonly value: (env: InstanceEnv) => unknown;
  /** trait keys (first segments) the conditions read. */
  readonly traitPaths: ReadonlyArray<readonly string[]>;
}

type Pred = (env: InstanceEnv, chain: Chain) => Truth;
type ValueOf = (env: InstanceEnv, chain: Chain) => unknown;

/**
 * The comparator arguments at one instance, without allocating: constant arguments are resolved once
 * at compile time; others are written into one array the closure owns (its callers do not keep it,
 * and no closure re-enters itself: each belongs to one level of the tree).
 */
function argumentsOf(getters: readonly ValueOf[], constant: boolean): (env: InstanceEnv, chain: Chain) => readonly unknown[] {
  const buffer: unknown[] = getters.map(() => undefined);
  if (constant) {
    const fixed = getters.map((g) => g(undefined as unknown as InstanceEnv, undefined as unknown as Chain));
    return () => fixed;
  }
  return (env, chain) => {
    for (let i = 0; i < getters.length; i++) buffer[i] = getters[i]!(env, chain);
    return buffer;
  };
}

/** Arguments that read nothing from an instance or a profile (literals, durations). */
function constantArgs(args: readonly (Scalar | ComparatorArg)[]): boolean {
  return args.every((x) => x.kind === 'literal' || x.kind === 'duration');
}

export class InstanceCompileError extends Error {}

/** Does this stream's `where` need per-instance evaluation (nested events, parent or trait references)? */
export function needsInstances(stream: EventStream): boolean {
  let dynamic = false;
  const walk = (node: unknown): void => {
    if (dynamic || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    const n = node as { kind?: string; parent?: boolean };
    if (n.kind === 'trait' || n.kind === 'aggregate' || ((n.kind === 'property' || n.kind === 'context') && n.parent === true)) dynamic = true;
    for (const [k, v] of Object.entries(node)) if (k !== 'span') walk(v);
  };
  for (const f of stream.filters) if (f.kind === 'where') walk(f.condition);
  return dynamic;
}

export interface InstanceCompileOptions {
  readonly distinctCap: number;
  /** how far behind the watermark a late event can still arrive (Infinity: unbounded). */
  readonly retention: number;
  /** compiles a static event-only condition (reused from the plan compiler). */
  readonly eventCondition: (c: Condition) => EventPredicate;
  /** the root stream's window as [from, to). */
  readonly rootWindow: readonly [number, number];
  /** reads a trait path (a profile trait or another definition's output) — registers the dependency. */
  readonly trait: (path: readonly string[]) => (ctx: EvalContext) => unknown;
}

/** Compiles `event(root).where(…)…reducer` into an instance program. */
export function compileInstances(a: Aggregate, o: InstanceCompileOptions): InstanceProgram {
  const storeStreams: Array<{ parent: number; within: number }> = [];
  const streams: Array<{ event: string; prefilter: EventPredicate | null; captures: Array<(e: FlockEvent) => unknown>; keys: Map<string, number> }> = [];
  const traitPaths: Array<readonly string[]> = [];
  const rootWhere: Pred[] = [];

  // Registers a stream and compiles its condition; returns the stream index.
  const addStream = (stream: EventStream, parent: number, within: number, conditions: Pred[]): number => {
    const s = streams.length;
    streams.push({ event: stream.name, prefilter: null, captures: [], keys: new Map() });
    storeStreams.push({ parent, within });
    const wheres = stream.filters.filter((f): f is Extract<Filter, { kind: 'where' }> => f.kind === 'where').map((f) => f.condition);
    const statics: EventPredicate[] = [];
    for (const w of wheres) {
      for (const c of conjuncts(w)) {
        if (isStatic(c)) statics.push(o.eventCondition(c));
        else conditions.push(predicate(c, s));
      }
    }
    for (const f of stream.filters) {
      if (f.kind === 'sources') {
        const excluded = new Set(f.exclude);
        statics.push((e) => e.sourceId === null || !excluded.has(e.sourceId));
      }
    }
    streams[s]!.prefilter = statics.length === 0 ? null : statics.length === 1 ? statics[0]! : (e) => statics.every((p) => p(e));
    return s;
  };

  /** The captured value of `ref` on stream `s` (registered on first use). */
  const capture = (s: number, ref: { kind: 'property' | 'context'; path: readonly string[] }): number => {
    const key = `${ref.kind}:${ref.path.join('\u0000')}`;
    const st = streams[s]!;
    let i = st.keys.get(key);
    if (i === undefined) {
      i = st.captures.length;
      const path = ref.path;
      st.captures.push(ref.kind === 'property' ? (e) => getPath(e.properties, path) : (e) => getPath(e.context, path));
      st.keys.set(key, i);
    }
    return i;
  };

  const valueOf = (x: Scalar | ComparatorArg, s: number): ValueOf => {
    switch (x.kind) {
      case 'duration': {
        const ms = x.ms;
        return () => ms;
      }
      case 'literal': {
        const v = x.type === 'timestamp' ? new InstantArg(x.ms) : x.value;
        return () => v;
      }
      case 'trait': {
        traitPaths.push(x.path);
        const get = o.trait(x.path);
        return (env) => get(env.ctx);
      }
      case 'property':
      case 'context': {
        if (x.parent) {
          const parent = storeStreams[s]!.parent;
          if (parent < 0) throw new InstanceCompileError('parent: is only valid inside a nested event');
          const i = capture(parent, x);
          return (env, chain) => env.state.streams[parent]!.v[chain.parent!.index]![i];
        }
        const i = capture(s, x);
        return (env, chain) => env.state.streams[s]!.v[chain.index]![i];
      }
      case 'aggregate':
        throw new InstanceCompileError('a nested event is only valid as the subject of a comparison');
    }
  };

  const predicate = (c: Condition, s: number): Pred => {
    switch (c.kind) {
      case 'and': {
        const parts = c.operands.map((x) => predicate(x, s));
        return (env, chain) => {
          let out: Truth = TRUE;
          for (const p of parts) {
            const t = p(env, chain);
            if (t === FALSE) return FALSE;
            if (t === UNKNOWN) out = UNKNOWN;
          }
          return out;
        };
      }
      case 'or': {
        const parts = c.operands.map((x) => predicate(x, s));
        return (env, chain) => {
          let out: Truth = FALSE;
          for (const p of parts) {
            const t = p(env, chain);
            if (t === TRUE) return TRUE;
            if (t === UNKNOWN) out = UNKNOWN;
          }
          return out;
        };
      }
      case 'not': {
        const inner = predicate(c.operand, s);
        return (env, chain) => {
          const t = inner(env, chain);
          return t === UNKNOWN ? UNKNOWN : t === TRUE ? FALSE : TRUE;
        };
      }
      case 'quantified':
        throw new InstanceCompileError('ANY/ALL are not valid inside where()');
      case 'comparison': {
        const comparator = c.comparator;
        if (c.subject.kind === 'aggregate') return nestedCount(c.subject, comparator, c.args, s);
        const subject = valueOf(c.subject, s);
        const args = argumentsOf(
          c.args.map((x) => valueOf(x, s)),
          constantArgs(c.args),
        );
        // Time-relative comparators in where() are judged at the instance's own timestamp.
        return (env, chain) => {
          const at = env.state.streams[chain.stream]!.t[chain.index]!;
          return compareValues(comparator, subject(env, chain), args(env, chain), at) ? TRUE : FALSE;
        };
      }
    }
  };

  /** `event('B').where(Q).within(parent: T).count() <cmp> args`, relative to the instance of stream `s`. */
  const nestedCount = (child: Aggregate, comparator: Extract<Condition, { kind: 'comparison' }>['comparator'], argsAst: readonly ComparatorArg[], s: number): Pred => {
    if (child.reducer.kind !== 'count') throw new InstanceCompileError('a nested event takes count() only');
    const windows = child.stream.filters.filter((f) => f.kind === 'within' || f.kind === 'between' || f.kind === 'expires_after');
    let within = Number.POSITIVE_INFINITY;
    if (windows.length > 1) throw new InstanceCompileError('a nested event takes one window');
    const w = windows[0];
    if (w !== undefined) {
      if (w.kind !== 'within' || !w.parent) throw new InstanceCompileError('a nested event takes within(parent: …), relative to its parent');
      within = w.duration.ms;
    }
    const childConditions: Pred[] = [];
    const c = addStream(child.stream, s, within, childConditions);
    const args = argumentsOf(
      argsAst.map((x) => valueOf(x, s)),
      constantArgs(argsAst),
    );
    const link: Chain = { stream: c, index: 0, parent: null };
    // With constant numeric arguments the comparison is the same for every count past the largest
    // (+1, as rangeTruth samples): the scan stops once that many children are sure.
    const enough = constantArgs(argsAst) ? saturation(args(undefined as unknown as InstanceEnv, link)) : Number.POSITIVE_INFINITY;
    return (env, chain) => {
      const parentTs = env.state.streams[s]!.t[chain.index]!;
      const items = env.state.streams[c]!.t;
      const end = Math.min(parentTs + within, env.now);
      let sure = 0;
      let maybe = 0;
      // children with parentTs ≤ ts ≤ min(parentTs + T, now)
      let j = lowerBound(items, parentTs);
      link.parent = chain;
      for (; j < items.length && items[j]! <= end && sure < enough; j++) {
        link.index = j;
        let t: Truth = TRUE;
        for (const p of childConditions) {
          const x = p(env, link);
          if (x === FALSE) {
            t = FALSE;
            break;
          }
          if (x === UNKNOWN) t = UNKNOWN;
        }
        if (t === TRUE) sure++;
        else if (t === UNKNOWN) maybe++;
      }
      const open = env.now < parentTs + within;
      return rangeTruth(comparator, args(env, chain), sure, open ? Number.POSITIVE_INFINITY : sure + maybe);
    };
  };

  const root = addStream(a.stream, -1, 0, rootWhere);
  const reducer = a.reducer;
  const of = reducer.kind === 'count' ? null : reducer.of;
  if (of?.kind === 'trait') {
    throw new InstanceCompileError(`${reducer.kind}(trait(…)) on a stream with funnels or references in where() is not supported`);
  }
  const reducerCapture = of === null ? -1 : capture(root, of);
  const spec: AggregateSpec = {
    window: { kind: 'all' },
    reducer:
      reducer.kind === 'min' || reducer.kind === 'max'
        ? { kind: reducer.kind, as: reducer.as }
        : reducer.kind === 'mode'
          ? { kind: 'mode', minFrequency: reducer.minFrequency }
          : reducer.kind === 'unique'
            ? { kind: 'unique', count: reducer.count }
            : { kind: reducer.kind },
    cap: o.distinctCap,
  };
  const asArray = reducer.kind === 'mode' && reducer.as === 'array';
  const store: InstanceStoreSpec = { streams: storeStreams, from: o.rootWindow[0], to: o.rootWindow[1], retention: o.retention };

  // A root instance is decided for good once every window below it has closed (its truth then reads
  // only stored items; a late child at or before `memoUpTo` clears the memo), or earlier, while every
  // window below it is still open (`now < ts + shortest`: a child is never before its parent, so its own
  // windows are open too), when its truth no longer depends on how many more children come: a nested
  // count judged open is TRUE or FALSE only if every larger count gives the same (rangeTruth over
  // [sure, ∞)), and counts only grow — also by late children. Conditions that read traits are judged
  // every time.
  const span = storeStreams.reduce((sum, x) => sum + x.within, 0);
  const shortest = storeStreams.reduce((min, x) => (x.parent >= 0 && x.within < min ? x.within : min), Number.POSITIVE_INFINITY);
  const memoize = traitPaths.length === 0 && Number.isFinite(span);
  const judged = (env: InstanceEnv, i: number): boolean => {
    if (!memoize) return holds(env, i) === TRUE;
    const st = env.state;
    let memo = st.memo;
    if (memo === undefined || memo.length !== st.streams[root]!.t.length) memo = st.memo = new Array<number>(st.streams[root]!.t.length).fill(-1);
    const known = memo[i]!;
    if (known !== -1) return known === 1;
    const h = holds(env, i);
    const ts = st.streams[root]!.t[i]!;
    const closes = ts + span;
    if (env.now > closes) {
      memo[i] = h === TRUE ? 1 : 0;
      if (st.memoUpTo === undefined || closes > st.memoUpTo) st.memoUpTo = closes;
    } else if (h !== UNKNOWN && env.now < ts + shortest) memo[i] = h === TRUE ? 1 : 0;
    return h === TRUE;
  };
  const value = (env: InstanceEnv): unknown => {
    const [lo, hi] = rootRange(store, env.state, env.now);
    const items = env.state.streams[root]!;
    if (reducer.kind === 'count') {
      let n = 0;
      for (let i = lo; i < hi; i++) if (judged(env, i)) n++;
      return n;
    }
    const acc = createAggregate(spec, env.now);
    for (let i = lo; i < hi; i++) {
      if (!judged(env, i)) continue;
      const x = reducerInput(spec, items.v[i]![reducerCapture], asArray);
      if (x !== IGNORED) insert(spec, acc, items.t[i]!, x, env.now);
    }
    return aggregateValue(spec, acc);
  };
  const rootChain: Chain = { stream: root, index: 0, parent: null };
  /** The root instance's truth: FALSE at the first false conjunct, UNKNOWN while one is undecided. */
  const holds = (env: InstanceEnv, i: number): Truth => {
    rootChain.index = i;
    let out: Truth = TRUE;
    for (let k = 0; k < rootWhere.length; k++) {
      const t = rootWhere[k]!(env, rootChain);
      if (t === FALSE) return FALSE;
      if (t === UNKNOWN) out = UNKNOWN;
    }
    return out;
  };

  return {
    store,
    streams: streams.map(({ event, prefilter, captures }) => ({ event, prefilter, captures })),
    value,
    traitPaths,
  };
}

/** The count from which `rangeTruth` over constant `args` no longer changes (Infinity without a numeric argument). */
function saturation(args: readonly unknown[]): number {
  let top = Number.NEGATIVE_INFINITY;
  for (const a of args) if (typeof a === 'number' && Number.isFinite(a)) top = Math.max(top, Math.ceil(a) + 1);
  return top === Number.NEGATIVE_INFINITY ? Number.POSITIVE_INFINITY : Math.max(top, 0);
}

/** Truth of `comparator(args)` over every count in [lo, hi] (hi Infinity: the window is still open). */
export function rangeTruth(comparator: Extract<Condition, { kind: 'comparison' }>['comparator'], args: readonly unknown[], lo: number, hi: number): Truth {
  // Beyond the largest numeric argument (+1) the comparison is constant: sample up to there.
  let top = lo;
  for (const a of args) {
    const x = typeof a === 'number' ? a : Number.NaN;
    if (Number.isFinite(x)) top = Math.max(top, Math.ceil(x) + 1);
  }
  const last = Math.min(hi, top);
  let anyTrue = false;
  let anyFalse = false;
  for (let c = lo; c <= last; c++) {
    if (compareValues(comparator, c, args, 0)) anyTrue = true;
    else anyFalse = true;
    if (anyTrue && anyFalse) return UNKNOWN;
  }
  return anyTrue ? TRUE : FALSE;
}

function lowerBound(t: readonly number[], ts: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid]! < ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function conjuncts(c: Condition): Condition[] {
  return c.kind === 'and' ? c.operands.flatMap(conjuncts) : [c];
}

/** Needs only the event itself: no nested events, no parent references, no traits. */
function isStatic(c: Condition): boolean {
  let ok = true;
  const walk = (node: unknown): void => {
    if (!ok || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    const n = node as { kind?: string; parent?: boolean };
    if (n.kind === 'trait' || n.kind === 'aggregate' || ((n.kind === 'property' || n.kind === 'context') && n.parent === true)) ok = false;
    for (const [k, v] of Object.entries(node)) if (k !== 'span') walk(v);
  };
  walk(c);
  return ok;
}
