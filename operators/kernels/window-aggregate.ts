/** Per-profile state of one windowed aggregate (`event(..).within(..).sum(..)`): exact over a monotone watermark. */
import { exactSumAdd, exactSumMean, exactSumMerge, exactSumValue, type ExactSum } from './exact-sum.ts';
import { heapPop, heapPush, heapSize, numberAsc, numberDesc, textAsc, textDesc, type Before, type ValueHeap } from './value-heap.ts';

/**
 * Semantics. An event at `ts` counts at instant `now` iff `now ∈ [ts + from, ts + to)`:
 * - all-time: `[ts, ∞)`;
 * - `within(N)`: `[ts, ts + N)` — i.e. `now − N < ts ≤ now`;
 * - `between(A, B)`: `[ts + A, ts + B)` — i.e. `now − B < ts ≤ now − A`;
 * - `expires_after(G)` (session): the events of the session that contains the newest event with
 *   `ts ≤ now`, where a session is a run of events whose gaps are `< G`, and only while
 *   `now < newest + G`.
 * The value at `now` is the reducer over the counting events. Ties on `ts` keep arrival order.
 *
 * `now` only grows (it is the engine's watermark), so the counting events of a range window are a
 * contiguous run `[lo, hi)` of the ts-sorted items, and running aggregates move with it: O(1)
 * amortised per event plus O(log n) for min/max, never a rescan. Items that can no longer count are
 * dropped; the all-time window keeps no items at all, only its running aggregate.
 *
 * Values: `count` counts events. Every other reducer ignores events whose value is absent; the numeric
 * reducers (`sum`, `avg`, `min`/`max` as number) also ignore non-numeric values (numbers and fully
 * numeric strings count). `mode`/`unique` work on the text form of values; an array value counts per
 * element unless `as array`. At most `cap` distinct values are kept per state; further new values are
 * dropped and counted in `dropped`.
 */

export type WindowSpec =
  | { readonly kind: 'all' }
  | { readonly kind: 'range'; readonly from: number; readonly to: number }
  /**
   * `retention`: how far behind the watermark a late event can still arrive (the event log's
   * retention; Infinity: the log keeps events forever, lateness is unbounded).
   */
  | { readonly kind: 'session'; readonly gap: number; readonly retention: number };

export type ReducerSpec =
  | { readonly kind: 'count' }
  | { readonly kind: 'sum' }
  | { readonly kind: 'avg' }
  | { readonly kind: 'min' | 'max'; readonly as: 'number' | 'string' }
  | { readonly kind: 'first' }
  | { readonly kind: 'last' }
  | { readonly kind: 'mode'; readonly minFrequency: number }
  | { readonly kind: 'unique'; readonly count: boolean };

export interface AggregateSpec {
  readonly window: WindowSpec;
  readonly reducer: ReducerSpec;
  /** distinct values kept for mode/unique. */
  readonly cap: number;
  /**
   * `count` over `within`: keep only the newest `keep` counting events (the count saturates at
   * `keep`). Only for consumers that compare the count with thresholds below it.
   */
  readonly keep?: number;
}

/** An item's reducer input: a number, a text, a list of texts (mode/unique), or a raw value (first/last). */
export type ItemValue = unknown;

/**
 * Plain, serialisable state. Unused fields stay absent; see `toPlain`/`fromPlain` for the Map.
 * - `t`/`x`: ts-sorted items (range/session: counting and future ones; all-time: future ones only).
 * - `lo`/`hi`: the counting run for range windows.
 * - `n`, `s`: count and exact sum of counting items; `h`: min/max heap; `f`: text frequencies;
 *   `bt`/`bx`: the all-time first/last/min/max so far.
 */
export interface AggregateState {
  v: 1;
  at: number;
  t: number[];
  /** null for `count`, which needs no values. */
  x: ItemValue[] | null;
  lo: number;
  hi: number;
  n: number;
  /** sum/avg only. */
  s: ExactSum | null;
  /** min/max over range and session windows only. */
  h: ValueHeap | null;
  f: Map<string, number> | null;
  bt: number;
  bx: ItemValue;
  dropped: number;
  /** the earliest matching event's ts (Infinity before any): a computed trait exists from then on. */
  e0: number;
}

const NONE = Symbol('none');

/** A new state; only the arrays the reducer needs are allocated (memory per profile is the product's cost). */
export function createAggregate(spec: AggregateSpec, now: number): AggregateState {
  const r = spec.reducer.kind;
  return {
    v: 1,
    at: now,
    t: [],
    x: r === 'count' ? null : [],
    lo: 0,
    hi: 0,
    n: 0,
    s: r === 'sum' || r === 'avg' ? [] : null,
    h: (r === 'min' || r === 'max') && spec.window.kind !== 'all' ? [] : null,
    f: null,
    bt: Number.NaN,
    bx: null,
    dropped: 0,
    e0: Number.POSITIVE_INFINITY,
  };
}

/** The value of item `i` (null for count, whose items carry none). */
function valueAt(st: AggregateState, i: number): ItemValue {
  return st.x === null ? null : st.x[i];
}

/** Records that a matching event at `ts` exists, even when the reducer ignores its value. */
export function touch(st: AggregateState, ts: number): void {
  if (ts < st.e0) st.e0 = ts;
}

/** Converts a raw event value to the reducer's input, or NONE when the reducer ignores it. */
export function reducerInput(spec: AggregateSpec, raw: unknown, asArray: boolean): ItemValue | typeof NONE {
  const r = spec.reducer;
  if (r.kind === 'count') return null;
  if (raw === undefined || raw === null) return NONE;
  switch (r.kind) {
    case 'sum':
    case 'avg':
      return numeric(raw);
    case 'min':
    case 'max':
      return r.as === 'number' ? numeric(raw) : typeof raw === 'string' ? raw : textOf(raw);
    case 'first':
    case 'last':
      return raw;
    case 'mode':
    case 'unique': {
      if (Array.isArray(raw) && !asArray) {
        const texts = raw.filter((e) => e !== null && e !== undefined).map(textOf);
        return texts.length === 0 ? NONE : texts;
      }
      return textOf(raw);
    }
  }
}
export { NONE as IGNORED };

const NUMERIC = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;
/** A finite number, or NONE: ±Infinity and NaN (and numeric strings beyond the double range, like '1e400') are ignored. */
function numeric(raw: unknown): number | typeof NONE {
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : NONE;
  if (typeof raw === 'string' && NUMERIC.test(raw)) {
    const n = Number(raw);
    return Number.isFinite(n) ? n : NONE;
  }
  return NONE;
}
function textOf(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  return JSON.stringify(raw);
}

function heapOrder(spec: AggregateSpec): Before {
  const r = spec.reducer as { kind: 'min' | 'max'; as: 'number' | 'string' };
  if (r.as === 'number') return r.kind === 'min' ? numberAsc : numberDesc;
  return r.kind === 'min' ? textAsc : textDesc;
}

// ---------------------------------------------------------------------------------------------
// Adding and removing one counting item from the running aggregate.

function addCounting(spec: AggregateSpec, st: AggregateState, ts: number, x: ItemValue): void {
  const r = spec.reducer;
  // A session keeps events whose value the reducer ignores (they still extend the session) as null.
  if (x === null && r.kind !== 'count') return;
  st.n++;
  switch (r.kind) {
    case 'sum':
    case 'avg':
      exactSumAdd(st.s!, x as number);
      return;
    case 'min':
    case 'max':
      if (spec.window.kind === 'all') {
        if (Number.isNaN(st.bt) || heapOrder(spec)(x as number | string, st.bx as number | string)) {
          st.bt = ts;
          st.bx = x;
        }
      } else heapPush(st.h!, x as number | string, ts, heapOrder(spec));
      return;
    case 'first':
      if (spec.window.kind === 'all' && (Number.isNaN(st.bt) || ts < st.bt)) {
        st.bt = ts;
        st.bx = x;
      }
      return;
    case 'last':
      if (spec.window.kind === 'all' && (Number.isNaN(st.bt) || ts >= st.bt)) {
        st.bt = ts;
        st.bx = x;
      }
      return;
    case 'mode':
    case 'unique':
      countTexts(st, x, 1);
      return;
    case 'count':
      return;
  }
}

function removeCounting(spec: AggregateSpec, st: AggregateState, x: ItemValue): void {
  const r = spec.reducer;
  if (x === null && r.kind !== 'count') return;
  st.n--;
  if (r.kind === 'sum' || r.kind === 'avg') exactSumAdd(st.s!, -(x as number));
  else if (r.kind === 'mode' || r.kind === 'unique') countTexts(st, x, -1);
  // min/max expire lazily from the heap; first/last read the run's ends.
}

function countTexts(st: AggregateState, x: ItemValue, delta: number): void {
  const f = (st.f ??= new Map());
  const texts = typeof x === 'string' ? [x] : (x as string[]);
  for (const k of texts) {
    const c = (f.get(k) ?? 0) + delta;
    if (c <= 0) f.delete(k);
    else f.set(k, c);
  }
}

/** Keeps the distinct-value cap: drops the texts of `x` that are new once the cap is reached. */
function capTexts(spec: AggregateSpec, st: AggregateState, x: ItemValue): ItemValue | typeof NONE {
  const f = st.f;
  const texts = typeof x === 'string' ? [x] : (x as string[]);
  if (f === null || f.size + texts.length <= spec.cap) return x;
  const kept: string[] = [];
  let size = f.size;
  for (const k of texts) {
    if (f.has(k) || size < spec.cap) {
      if (!f.has(k)) size++;
      kept.push(k);
    } else st.dropped++;
  }
  if (kept.length === 0) return NONE;
  return typeof x === 'string' ? kept[0]! : kept;
}

// ---------------------------------------------------------------------------------------------

/** Moves the state to instant `now` (≥ its current instant). Returns true when the counting set changed. */
export function advance(spec: AggregateSpec, st: AggregateState, now: number): boolean {
  if (now <= st.at) return false;
  const previous = st.at;
  st.at = now;
  const w = spec.window;
  const t = st.t;
  let changed = false;
  if (w.kind === 'all') {
    // Future items become counting; all-time keeps no counting items.
    let k = 0;
    while (k < t.length && t[k]! <= now) {
      addCounting(spec, st, t[k]!, valueAt(st, k));
      k++;
    }
    if (k > 0) {
      dropFront(st, k);
      changed = true;
    }
    return changed;
  }
  if (w.kind === 'session') return advanceSession(spec, st, previous, now);
  const { from, to } = w;
  while (st.hi < t.length && t[st.hi]! + from <= now) {
    addCounting(spec, st, t[st.hi]!, valueAt(st, st.hi));
    st.hi++;
    changed = true;
  }
  if (changed && spec.keep !== undefined) keepNewest(spec, st);
  while (st.lo < st.hi && t[st.lo]! + to <= now) {
    removeCounting(spec, st, valueAt(st, st.lo));
    st.lo++;
    changed = true;
  }
  // Amortised O(1): compact once the dropped prefix is half the items.
  if (st.lo >= 16 && st.lo * 2 >= t.length) {
    dropFront(st, st.lo);
    st.hi -= st.lo;
    st.lo = 0;
  }
  return changed;
}

/**
 * Adds an event at `ts` with reducer input `x`, seen at instant `now` (the state is first advanced to
 * `now`). An event that can no longer count (`ts + to ≤ now`) is dropped. Returns true when the
 * counting set changed at `now`.
 */
export function insert(spec: AggregateSpec, st: AggregateState, ts: number, x: ItemValue, now: number): boolean {
  advance(spec, st, now);
  if ((spec.reducer.kind === 'mode' || spec.reducer.kind === 'unique') && x !== null) {
    const kept = capTexts(spec, st, x);
    if (kept === NONE) return false;
    x = kept;
  }
  const w = spec.window;
  const t = st.t;
  if (w.kind === 'all') {
    if (ts <= now) {
      addCounting(spec, st, ts, x);
      return true;
    }
    insertAt(st, upperBound(t, ts, 0), ts, x);
    return false;
  }
  if (w.kind === 'session') return insertSession(spec, st, ts, x, now);
  if (ts + w.to <= now) return false;
  insertAt(st, upperBound(t, ts, st.lo), ts, x);
  if (ts + w.from <= now) {
    st.hi++;
    addCounting(spec, st, ts, x);
    if (spec.keep !== undefined) keepNewest(spec, st);
    return true;
  }
  return false;
}

/** Drops the oldest counting events beyond `spec.keep` (they would expire first anyway). */
function keepNewest(spec: AggregateSpec, st: AggregateState): void {
  const keep = spec.keep!;
  while (st.hi - st.lo > keep) {
    removeCounting(spec, st, valueAt(st, st.lo));
    st.lo++;
  }
}

/** Drops the first `k` items in place (no garbage array, unlike splice). */
function dropFront(st: AggregateState, k: number): void {
  const t = st.t;
  const x = st.x;
  const n = t.length - k;
  t.copyWithin(0, k);
  t.length = n;
  if (x !== null) {
    x.copyWithin(0, k);
    x.length = n;
  }
}

/** Inserts an item at `p` (appends in the common in-order case). */
function insertAt(st: AggregateState, p: number, ts: number, x: ItemValue): void {
  if (p === st.t.length) {
    st.t.push(ts);
    st.x?.push(x);
  } else {
    st.t.splice(p, 0, ts);
    st.x?.splice(p, 0, x);
  }
}

function upperBound(t: readonly number[], ts: number, from: number): number {
  // Events mostly arrive in order: check the end first.
  if (t.length === from || t[t.length - 1]! <= ts) return t.length;
  let lo = from;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t[mid]! <= ts) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Whether events the reducer ignores must still be kept (session windows: they extend the session). */
export function keepsIgnored(spec: AggregateSpec): boolean {
  return spec.window.kind === 'session';
}

/** The next instant after the state's instant at which its value may change with no new event. */
export function nextChange(spec: AggregateSpec, st: AggregateState): number {
  const w = spec.window;
  const t = st.t;
  // A matching event from the future makes the aggregate exist at its ts, even if its value is ignored.
  const exists = st.e0 > st.at ? st.e0 : Number.POSITIVE_INFINITY;
  if (w.kind === 'all') return Math.min(exists, t.length > 0 ? t[0]! : Number.POSITIVE_INFINITY);
  if (w.kind === 'session') return Math.min(exists, nextChangeSession(spec, st));
  let next = exists;
  if (st.hi < t.length) next = Math.min(next, t[st.hi]! + w.from);
  if (st.lo < st.hi) next = Math.min(next, t[st.lo]! + w.to);
  return next;
}

/**
 * The reducer's value at the state's instant (call `advance` first). `null` = no value.
 *
 * Empty windows (no counting value): `count`, `sum` and `unique(…).count()` are 0 — how much there
 * is; `avg`, `min`, `max`, `first`, `last`, `mode` and `unique(…)` (the list) have no value — there
 * is nothing to average, pick or list. A sum whose exact value is beyond the double range (±1.8e308)
 * has no value either (a sum has no value only then); the mean of such values stays finite.
 */
export function aggregateValue(spec: AggregateSpec, st: AggregateState): unknown {
  const r = spec.reducer;
  switch (r.kind) {
    case 'count':
      return st.n;
    case 'sum': {
      const v = exactSumValue(st.s!);
      return Number.isFinite(v) ? v : null;
    }
    case 'avg': {
      if (st.n === 0) return null;
      const v = exactSumMean(st.s!, st.n);
      return Number.isFinite(v) ? v : null;
    }
    case 'min':
    case 'max': {
      if (spec.window.kind === 'all') return Number.isNaN(st.bt) ? null : st.bx;
      return heapTop(spec, st);
    }
    case 'first':
    case 'last': {
      if (spec.window.kind === 'all') return Number.isNaN(st.bt) ? null : st.bx;
      if (st.n === 0) return null;
      const [lo, hi] = countingRun(spec, st);
      const x = st.x!;
      if (r.kind === 'first') {
        for (let i = lo; i < hi; i++) if (x[i] !== null) return x[i];
      } else for (let i = hi - 1; i >= lo; i--) if (x[i] !== null) return x[i];
      return null;
    }
    case 'mode': {
      const f = st.f;
      if (f === null) return null;
      let best: string | null = null;
      let bestCount = 0;
      for (const [k, c] of f) {
        if (c > bestCount || (c === bestCount && best !== null && k < best)) {
          best = k;
          bestCount = c;
        }
      }
      return bestCount >= r.minFrequency ? best : null;
    }
    case 'unique': {
      const f = st.f;
      if (r.count) return f === null ? 0 : f.size;
      return f === null || f.size === 0 ? null : [...f.keys()].sort();
    }
  }
}


function heapTop(spec: AggregateSpec, st: AggregateState): unknown {
  const w = spec.window;
  const before = heapOrder(spec);
  const h = st.h!;
  if (w.kind === 'range') {
    while (heapSize(h) > 0 && (h[1] as number) + w.to <= st.at) heapPop(h, before);
    // Lazily expired entries below the top only cost memory: rebuild when they dominate.
    if (heapSize(h) > 32 && heapSize(h) > 4 * st.n) rebuildHeap(spec, st);
  } else if (w.kind === 'session') {
    const [lo] = countingRun(spec, st);
    const start = lo < st.t.length ? st.t[lo]! : Number.POSITIVE_INFINITY;
    while (heapSize(h) > 0 && (h[1] as number) < start) heapPop(h, before);
  }
  return heapSize(h) > 0 ? h[0] : null;
}

function rebuildHeap(spec: AggregateSpec, st: AggregateState): void {
  const before = heapOrder(spec);
  const h: ValueHeap = [];
  st.h = h;
  const [lo, hi] = countingRun(spec, st);
  const x = st.x!;
  for (let i = lo; i < hi; i++) if (x[i] !== null) heapPush(h, x[i] as number | string, st.t[i]!, before);
}

/** The index range of the counting items (range and session windows). */
function countingRun(spec: AggregateSpec, st: AggregateState): [number, number] {
  if (spec.window.kind === 'session') return sessionRun(spec, st);
  return [st.lo, st.hi];
}

// ---------------------------------------------------------------------------------------------
// Session windows. Items are kept from `keepFrom` on (the current session, and anything a late event
// could still bridge to); `hi` is the number of items with ts ≤ now and `lo` the start of the session
// that ends at `hi - 1`. The running aggregate covers `[lo, hi)` while that session is open.

function sessionGap(spec: AggregateSpec): number {
  return (spec.window as { gap: number }).gap;
}

function sessionRun(spec: AggregateSpec, st: AggregateState): [number, number] {
  const hi = st.hi;
  if (hi === 0 || st.t[hi - 1]! + sessionGap(spec) <= st.at) return [hi, hi];
  return [st.lo, hi];
}

/** Recomputes `lo` and the running aggregate from the items (after a new session or a late event). */
function recomputeSession(spec: AggregateSpec, st: AggregateState): void {
  const gap = sessionGap(spec);
  const t = st.t;
  let lo = st.hi;
  if (lo > 0) {
    lo--;
    while (lo > 0 && t[lo]! - t[lo - 1]! < gap) lo--;
  }
  st.lo = lo;
  st.n = 0;
  if (st.s !== null) st.s = [];
  if (st.h !== null) st.h = [];
  st.f = null;
  const [a, b] = sessionRun(spec, st);
  for (let i = a; i < b; i++) addCounting(spec, st, t[i]!, valueAt(st, i));
}

/**
 * Drops the sessions no event can join any more. A closed session before the current one counts
 * again only if late events bridge it to the newest one, and a late event arrives with a timestamp of
 * at least `at − retention`: a prefix of items goes when it ends a session (the next item is a gap
 * `≥ gap` later) and its last item is `≥ gap` before that. With unbounded lateness (`retention`
 * Infinity) any session may still be bridged: nothing goes.
 */
function trimSession(spec: AggregateSpec, st: AggregateState): void {
  const w = spec.window as { gap: number; retention: number };
  const reach = st.at - w.retention - w.gap;
  const t = st.t;
  let k = 0;
  while (k < st.lo && t[k]! <= reach) k++;
  // (cut at a session boundary: the item after the cut must not be in the same session)
  while (k > 0 && k < t.length && t[k]! - t[k - 1]! < w.gap) k--;
  if (k >= 16 && k * 2 >= t.length) {
    dropFront(st, k);
    st.lo -= k;
    st.hi -= k;
  }
}

function advanceSession(spec: AggregateSpec, st: AggregateState, previous: number, now: number): boolean {
  const gap = sessionGap(spec);
  const t = st.t;
  const wasOpen = st.hi > 0 && t[st.hi - 1]! + gap > previous;
  let changed = false;
  // Events from the future that have started: rare, so the run is recomputed once for all of them.
  while (st.hi < t.length && t[st.hi]! <= now) {
    st.hi++;
    changed = true;
  }
  const isOpen = st.hi > 0 && t[st.hi - 1]! + gap > now;
  if (changed || wasOpen !== isOpen) {
    recomputeSession(spec, st);
    changed = true;
  }
  trimSession(spec, st);
  return changed;
}

function insertSession(spec: AggregateSpec, st: AggregateState, ts: number, x: ItemValue, now: number): boolean {
  const w = spec.window as { gap: number; retention: number };
  const t = st.t;
  // Out of reach of every kept item and of every event that can still arrive: it cannot join a session that counts.
  if (ts <= now - w.retention - w.gap && (t.length === 0 || ts + w.gap <= t[0]!)) return false;
  const p = upperBound(t, ts, 0);
  const extendsOpenSession = p === st.hi && st.hi > 0 && t[p - 1]! + w.gap > now && ts - t[p - 1]! < w.gap;
  insertAt(st, p, ts, x);
  if (ts > now) return false;
  st.hi++;
  // The common case extends the open session at its end; anything else (a new session, a late
  // event inside or before the session) recomputes the run.
  if (extendsOpenSession) addCounting(spec, st, ts, x);
  else recomputeSession(spec, st);
  return true;
}

function nextChangeSession(spec: AggregateSpec, st: AggregateState): number {
  const gap = sessionGap(spec);
  const t = st.t;
  let next = Number.POSITIVE_INFINITY;
  if (st.hi < t.length) next = t[st.hi]!;
  if (st.hi > 0 && t[st.hi - 1]! + gap > st.at) next = Math.min(next, t[st.hi - 1]! + gap);
  return next;
}

// ---------------------------------------------------------------------------------------------

/**
 * Merges two states of the same aggregate (identity merges): the result equals one state that saw
 * both event sets. Ties on ts put `a`'s events first.
 */
export function mergeAggregates(spec: AggregateSpec, a: AggregateState, b: AggregateState, now: number): AggregateState {
  advance(spec, a, now);
  advance(spec, b, now);
  const out = createAggregate(spec, now);
  out.dropped = a.dropped + b.dropped;
  out.e0 = Math.min(a.e0, b.e0);
  if (spec.window.kind === 'all') {
    out.n = a.n + b.n;
    for (const s of [a, b]) if (s.s !== null && out.s !== null) exactSumMerge(out.s, s.s);
    for (const s of [a, b]) if (s.f !== null) for (const [k, c] of s.f) (out.f ??= new Map()).set(k, (out.f.get(k) ?? 0) + c);
    const r = spec.reducer.kind;
    for (const s of [a, b]) {
      if (Number.isNaN(s.bt)) continue;
      const better =
        Number.isNaN(out.bt) ||
        (r === 'first' ? s.bt < out.bt : r === 'last' ? s.bt >= out.bt : heapOrder(spec)(s.bx as number | string, out.bx as number | string));
      if (better) {
        out.bt = s.bt;
        out.bx = s.bx;
      }
    }
    for (const s of [a, b]) for (let i = 0; i < s.t.length; i++) insert(spec, out, s.t[i]!, valueAt(s, i), now);
    return out;
  }
  // Range and session windows: every kept item of both, in ts order (a linear merge of the two sorted
  // lists, `a`'s first on a tie), then the counting walk from scratch.
  let i = 0;
  let j = 0;
  while (i < a.t.length || j < b.t.length) {
    const fromA = j >= b.t.length || (i < a.t.length && a.t[i]! <= b.t[j]!);
    const s = fromA ? a : b;
    const k = fromA ? i++ : j++;
    out.t.push(s.t[k]!);
    out.x?.push(valueAt(s, k));
  }
  out.at = Number.NEGATIVE_INFINITY;
  advance(spec, out, now);
  if (spec.window.kind === 'session') recomputeSession(spec, out);
  return out;
}

/**
 * The checkpoint form: a tuple with the timestamps as raw little-endian float64 bytes (msgpack
 * copies a binary value as is), about half the encode time and size of the object form. Version 1.
 */
export function aggregateToPlain(st: AggregateState): unknown {
  return [
    1,
    st.at,
    st.lo,
    st.hi,
    st.n,
    st.e0,
    st.dropped,
    st.bt,
    st.bx,
    timesToBytes(st.t),
    st.x,
    st.s,
    st.h,
    st.f === null ? null : [...st.f],
  ];
}

function timesToBytes(t: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(t.length * 8);
  for (let i = 0; i < t.length; i++) out.writeDoubleLE(t[i]!, i * 8);
  return out;
}

function bytesToTimes(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<number>(bytes.byteLength >> 3);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

export class AggregateFormatError extends Error {
  constructor(found: unknown) {
    super(`aggregate state format ${JSON.stringify(found)} is not readable by this build`);
    this.name = 'AggregateFormatError';
  }
}

export function aggregateFromPlain(plain: unknown): AggregateState {
  const p = plain as [number, number, number, number, number, number, number, number, ItemValue, Uint8Array, ItemValue[] | null, ExactSum | null, ValueHeap | null, Array<[string, number]> | null];
  if (!Array.isArray(p) || p[0] !== 1) throw new AggregateFormatError(Array.isArray(p) ? p[0] : typeof p);
  return {
    v: 1,
    at: p[1],
    lo: p[2],
    hi: p[3],
    n: p[4],
    e0: p[5],
    dropped: p[6],
    bt: p[7],
    bx: p[8],
    t: bytesToTimes(p[9]),
    x: p[10],
    s: p[11],
    h: p[12],
    f: p[13] === null ? null : new Map(p[13]),
  };
}
