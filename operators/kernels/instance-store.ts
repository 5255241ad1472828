/** Per-profile storage of event instances for conditions evaluated per instance: funnels (parent → child streams) and dynamic references. */

/**
 * A funnel `event('A').where(… event('B').within(parent: T)…)` keeps, per profile, the instances of
 * each stream of its tree (stream 0 is the parent; children and grandchildren follow) as ts-sorted
 * items with the values their conditions read. Whether an instance satisfies its condition is decided
 * when the definition is evaluated (it depends on `now`, on child instances, and on traits), so the
 * store only keeps items, in order, and drops those no condition can reach any more.
 */
export interface InstanceStoreSpec {
  /** per stream: the parent stream's index (-1 for the root) and the child window `T` (ms). */
  readonly streams: ReadonlyArray<{ readonly parent: number; readonly within: number }>;
  /** the root's window: `[ts + from, ts + to)` (`to` Infinity for all-time). */
  readonly from: number;
  readonly to: number;
  /**
   * how far behind the watermark a late event can still arrive (ms): the event log's retention, or
   * Infinity (the log keeps events forever, so lateness is unbounded).
   */
  readonly retention: number;
}

export interface StreamItems {
  t: number[];
  /** per item, the values its conditions read (a tuple per stream). */
  v: unknown[][];
}

export interface InstanceState {
  v: 1;
  at: number;
  streams: StreamItems[];
  /** earliest matching root event (the aggregate exists from then on). */
  e0: number;
  /**
   * Not checkpointed: per root item (parallel to `streams[0]`), its truth once decided for good (1
   * or 0; −1 not yet), so an evaluation does not judge again every instance in the window. An entry
   * is decided when every window below the instance has closed and its conditions read no trait;
   * `memoUpTo` is the latest such closing instant — a late child at or before it clears the memo.
   */
  memo?: number[] | undefined;
  memoUpTo?: number | undefined;
}

export function createInstances(spec: InstanceStoreSpec, now: number): InstanceState {
  return { v: 1, at: now, streams: spec.streams.map(() => ({ t: [], v: [] })), e0: Number.POSITIVE_INFINITY };
}

/** Adds an event instance to stream `s` (ts order; ties keep arrival order). */
export function insertInstance(spec: InstanceStoreSpec, st: InstanceState, s: number, ts: number, values: unknown[], now: number): void {
  compactInstances(spec, st, now);
  if (s === 0) {
    if (ts < st.e0) st.e0 = ts;
    if (ts + spec.to <= now) return; // can never count again
  }
  if (s !== 0 && st.memo !== undefined && ts <= st.memoUpTo!) forgetMemo(st); // a late child: decided instances may change
  const items = st.streams[s]!;
  const t = items.t;
  let p = t.length;
  if (p > 0 && t[p - 1]! > ts) {
    let lo = 0;
    let hi = p;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (t[mid]! <= ts) lo = mid + 1;
      else hi = mid;
    }
    p = lo;
  }
  if (p === t.length) {
    t.push(ts);
    items.v.push(values);
    if (s === 0) st.memo?.push(-1);
  } else {
    t.splice(p, 0, ts);
    items.v.splice(p, 0, values);
    if (s === 0) st.memo?.splice(p, 0, -1);
  }
}

function forgetMemo(st: InstanceState): void {
  st.memo = undefined;
  st.memoUpTo = undefined;
}

/**
 * Drops what no condition can reach. A root instance at `p` counts while `now < p + to`; a child
 * (grandchild …) item is reached only from an instance at or before it. So an item can still matter
 * if an instance kept can reach it (it is not older than the oldest kept item of its parent stream)
 * or if a parent that can still count may yet arrive before it: late events arrive with a timestamp
 * of at least `now − retention`, and a root counts again only if `p > now − to`. Items older than
 * both horizons go. With unbounded lateness (`retention` Infinity) and an all-time root window,
 * children are kept as long as the profile's roots are (forever).
 */
export function compactInstances(spec: InstanceStoreSpec, st: InstanceState, now: number): void {
  if (now <= st.at) return;
  st.at = now;
  const root = st.streams[0]!;
  if (Number.isFinite(spec.to)) {
    const k = dropBefore(root, (ts) => ts + spec.to <= now);
    if (k > 0) st.memo?.splice(0, k);
  }
  // (no parent that may still arrive is older than this)
  const arriving = Math.max(now - spec.retention, now - spec.to);
  for (let s = 1; s < st.streams.length; s++) {
    const parent = st.streams[spec.streams[s]!.parent]!;
    const oldestParent = parent.t.length > 0 ? parent.t[0]! : Number.POSITIVE_INFINITY;
    const horizon = Math.min(oldestParent, arriving);
    dropBefore(st.streams[s]!, (ts) => ts < horizon);
  }
}

/** Drops the leading items that are `gone`; returns how many. */
function dropBefore(items: StreamItems, gone: (ts: number) => boolean): number {
  let k = 0;
  while (k < items.t.length && gone(items.t[k]!)) k++;
  if (k === 0) return 0;
  items.t.splice(0, k);
  items.v.splice(0, k);
  return k;
}

/** Index range of root items counting at `now`: `ts + from ≤ now < ts + to`. */
export function rootRange(spec: InstanceStoreSpec, st: InstanceState, now: number): [number, number] {
  const t = st.streams[0]!.t;
  let lo = 0;
  while (lo < t.length && t[lo]! + spec.to <= now) lo++;
  let hi = lo;
  while (hi < t.length && t[hi]! + spec.from <= now) hi++;
  return [lo, hi];
}

/**
 * A conservative next instant at which any instance's standing may change: a root entering or
 * leaving the window, a child window closing (a `did not` deciding), an instance from the future
 * starting. Evaluating at an instant where nothing changed is harmless.
 */
export function nextInstanceChange(spec: InstanceStoreSpec, st: InstanceState): number {
  const now = st.at;
  let next = st.e0 > now ? st.e0 : Number.POSITIVE_INFINITY;
  // Each family of instants is `ts + offset` over a ts-sorted stream: its first one after `now` is
  // found by binary search.
  const consider = (t: readonly number[], offset: number) => {
    const bound = now - offset;
    let lo = 0;
    let hi = t.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (t[mid]! <= bound) lo = mid + 1;
      else hi = mid;
    }
    if (lo < t.length) {
      const x = t[lo]! + offset;
      if (x > now && x < next) next = x;
    }
  };
  const root = st.streams[0]!.t;
  consider(root, spec.from);
  consider(root, spec.to);
  for (let s = 0; s < st.streams.length; s++) {
    const t = st.streams[s]!.t;
    // Every child window that instances of this stream open: ts + T of each child stream.
    for (let c = 1; c < spec.streams.length; c++) if (spec.streams[c]!.parent === s) consider(t, spec.streams[c]!.within);
    consider(t, 0);
  }
  return next;
}

/** Merges `b` into `a` (identity merges); ties put `a`'s instances first. */
export function mergeInstances(spec: InstanceStoreSpec, a: InstanceState, b: InstanceState, now: number): InstanceState {
  const out = createInstances(spec, Math.min(a.at, b.at));
  out.e0 = Math.min(a.e0, b.e0);
  for (let s = 0; s < spec.streams.length; s++) {
    const items: Array<[number, unknown[]]> = [];
    for (const src of [a, b]) {
      const st = src.streams[s]!;
      for (let i = 0; i < st.t.length; i++) items.push([st.t[i]!, st.v[i]!]);
    }
    items.sort((x, y) => x[0] - y[0]);
    out.streams[s] = { t: items.map((x) => x[0]), v: items.map((x) => x[1]) };
  }
  compactInstances(spec, out, now);
  return out;
}

/** The checkpoint form (version 1). */
export function instancesToPlain(st: InstanceState): unknown {
  return [1, st.at, st.e0, st.streams.map((s) => [s.t, s.v])];
}

export class InstanceFormatError extends Error {
  constructor(found: unknown) {
    super(`instance state format ${JSON.stringify(found)} is not readable by this build`);
    this.name = 'InstanceFormatError';
  }
}

export function instancesFromPlain(plain: unknown): InstanceState {
  const p = plain as [number, number, number, Array<[number[], unknown[][]]>];
  if (!Array.isArray(p) || p[0] !== 1) throw new InstanceFormatError(Array.isArray(p) ? p[0] : typeof p);
  return { v: 1, at: p[1], e0: p[2], streams: p[3].map(([t, v]) => ({ t, v })) };
}
