/** Window-aggregate kernel: exactness against a brute-force recompute, round trips, merges, and its failure paths. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  advance,
  aggregateFromPlain,
  aggregateToPlain,
  aggregateValue,
  AggregateFormatError,
  createAggregate,
  IGNORED,
  insert,
  keepsIgnored,
  mergeAggregates,
  nextChange,
  reducerInput,
  touch,
  type AggregateSpec,
  type ReducerSpec,
  type WindowSpec,
} from '../../../operators/kernels/window-aggregate.ts';
import { exactMeanOf, exactSumOf } from '../../../operators/kernels/exact-sum.ts';
import { nextCountFlip } from '../../../operators/kernels/count-flip.ts';

const windows: fc.Arbitrary<WindowSpec> = fc.oneof(
  fc.constant<WindowSpec>({ kind: 'all' }),
  fc.integer({ min: 1, max: 50 }).map((n) => ({ kind: 'range' as const, from: 0, to: n })),
  fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 30 })).map(([a, w]) => ({ kind: 'range' as const, from: a, to: a + w })),
  fc.integer({ min: 1, max: 20 }).map((g) => ({ kind: 'session' as const, gap: g, retention: Number.POSITIVE_INFINITY })),
);
const reducers: fc.Arbitrary<ReducerSpec> = fc.constantFrom<ReducerSpec>(
  { kind: 'count' },
  { kind: 'sum' },
  { kind: 'avg' },
  { kind: 'min', as: 'number' },
  { kind: 'max', as: 'number' },
  { kind: 'min', as: 'string' },
  { kind: 'max', as: 'string' },
  { kind: 'first' },
  { kind: 'last' },
  { kind: 'mode', minFrequency: 1 },
  { kind: 'mode', minFrequency: 2 },
  { kind: 'unique', count: true },
  { kind: 'unique', count: false },
);
// (1e308 and −1e308 overflow sums; Infinity, NaN and '1e400' are ignored by every numeric reducer)
const rawValue = fc.oneof(
  fc.integer({ min: -3, max: 9 }),
  fc.constantFrom<unknown>('a', 'b', 'c', '7', 'x', null, 0.1, 0.2, ['a', 'b']),
  fc.constantFrom<unknown>(1e308, -1e308, 1.5e300, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, '1e400'),
);

interface Seen {
  ts: number;
  raw: unknown;
  seq: number;
}

/** Brute force: the reducer over the events counting at `now`, straight from the definition. */
function bruteForce(spec: AggregateSpec, seen: readonly Seen[], now: number): unknown {
  const w = spec.window;
  let counting = seen.filter((e) => e.ts <= now).sort((a, b) => a.ts - b.ts || a.seq - b.seq);
  if (w.kind === 'range') counting = counting.filter((e) => e.ts + w.from <= now && now < e.ts + w.to);
  if (w.kind === 'session') {
    if (counting.length === 0 || now >= counting[counting.length - 1]!.ts + w.gap) counting = [];
    else {
      let s = counting.length - 1;
      while (s > 0 && counting[s]!.ts - counting[s - 1]!.ts < w.gap) s--;
      counting = counting.slice(s);
    }
  }
  const r = spec.reducer;
  if (r.kind === 'count') return counting.length;
  const inputs = counting.map((e) => reducerInput(spec, e.raw, false)).filter((x) => x !== IGNORED);
  switch (r.kind) {
    case 'sum': {
      const sum = exactSumOf(inputs as number[]);
      return Number.isFinite(sum) ? sum : null;
    }
    case 'avg':
      return inputs.length === 0 ? null : exactMeanOf(inputs as number[]);
    case 'min':
    case 'max': {
      if (inputs.length === 0) return null;
      return (inputs as Array<number | string>).reduce((a, b) => (r.kind === 'min' ? (b < a ? b : a) : b > a ? b : a));
    }
    case 'first':
      return inputs.length === 0 ? null : inputs[0];
    case 'last':
      return inputs.length === 0 ? null : inputs[inputs.length - 1];
    case 'mode':
    case 'unique': {
      const f = new Map<string, number>();
      for (const x of inputs) for (const k of typeof x === 'string' ? [x] : (x as string[])) f.set(k, (f.get(k) ?? 0) + 1);
      if (r.kind === 'unique') return r.count ? f.size : f.size === 0 ? null : [...f.keys()].sort();
      let best: string | null = null;
      let bc = 0;
      for (const [k, c] of f) if (c > bc || (c === bc && best !== null && k < best)) [best, bc] = [k, c];
      return bc >= r.minFrequency ? best : null;
    }
  }
}

test('kernel = brute force at every step, for every window and reducer (late and future events included)', () => {
  fc.assert(
    fc.property(
      windows,
      reducers,
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: -40, max: 40 }), rawValue), { minLength: 1, maxLength: 40 }),
      (window, reducer, steps) => {
        const spec: AggregateSpec = { window, reducer, cap: 10_000 };
        let now = 100;
        const st = createAggregate(spec, now);
        const seen: Seen[] = [];
        let seq = 0;
        for (const [isEvent, d, raw] of steps) {
          if (isEvent) {
            const ts = now + d; // d < 0: late; d > 0: from the future
            touch(st, ts);
            const x = reducerInput(spec, raw, false);
            if (x !== IGNORED) insert(spec, st, ts, x, now);
            else if (keepsIgnored(spec)) insert(spec, st, ts, null, now);
            else advance(spec, st, now);
            // the kernel drops what can never count again; so does the brute force (a range window's expired event)
            seen.push({ ts, raw, seq: seq++ });
          } else {
            // jump straight to the next change, or past it
            const next = nextChange(spec, st);
            now = Number.isFinite(next) && d % 2 === 0 ? next : now + Math.abs(d) + 1;
            advance(spec, st, now);
          }
          assert.equal(aggregateValue(spec, st), bruteForce(spec, seen, now), `at ${now}`);
        }
      },
    ),
    { numRuns: 3000 },
  );
});

test('sessions with late events anywhere inside the retention (bridging old sessions to the current one) = brute force; state is trimmed only where no such event can reach', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 12 }),
      fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.integer({ min: 0, max: 200 })),
      fc.constantFrom<ReducerSpec>({ kind: 'count' }, { kind: 'sum' }, { kind: 'first' }, { kind: 'unique', count: true }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 1000 }), rawValue), { minLength: 20, maxLength: 150 }),
      (gap, retention, reducer, steps) => {
        const spec: AggregateSpec = { window: { kind: 'session', gap, retention }, reducer, cap: 10_000 };
        let now = 1000;
        const st = createAggregate(spec, now);
        const seen: Seen[] = [];
        let seq = 0;
        for (const [kind, r, raw] of steps) {
          if (kind === 0) {
            now += 1 + (r % 40);
            advance(spec, st, now);
          } else {
            // mostly on time; else late by up to the retention (all of it when unbounded)
            // (never beyond the retention: the log cannot deliver such an event)
            const lateness = kind <= 5 ? Math.min(r % 3, retention) : Number.isFinite(retention) ? r % (retention + 1) : r;
            const ts = now - lateness;
            touch(st, ts);
            const x = reducerInput(spec, raw, false);
            insert(spec, st, ts, x === IGNORED ? null : x, now);
            seen.push({ ts, raw, seq: seq++ });
          }
          assert.equal(aggregateValue(spec, st), bruteForce(spec, seen, now), `at ${now}`);
        }
      },
    ),
    { numRuns: 1500 },
  );
});

test('a session window with a finite retention keeps only what a late event could still bridge', () => {
  const spec: AggregateSpec = { window: { kind: 'session', gap: 10, retention: 100 }, reducer: { kind: 'count' }, cap: 10_000 };
  const unbounded: AggregateSpec = { ...spec, window: { kind: 'session', gap: 10, retention: Number.POSITIVE_INFINITY } };
  const st = createAggregate(spec, 0);
  const all = createAggregate(unbounded, 0);
  // sessions of 3 events every 50 (gaps of 20 and more between them)
  for (let s = 0; s < 400; s++) {
    for (const ts of [s * 50, s * 50 + 2, s * 50 + 4]) {
      insert(spec, st, ts, null, ts);
      insert(unbounded, all, ts, null, ts);
    }
  }
  assert.is(aggregateValue(spec, st), 3);
  assert.ok(st.t.length <= 2 * ((100 + 10) / 50 + 1) * 3 + 16, `kept ${st.t.length}`);
  assert.is(all.t.length, 1200, 'with unbounded lateness every session may still be bridged');
});

test('checkpoint form round-trips every field, and an unknown format is a named error', () => {
  const spec: AggregateSpec = { window: { kind: 'range', from: 0, to: 10 }, reducer: { kind: 'mode', minFrequency: 1 }, cap: 100 };
  const st = createAggregate(spec, 0);
  insert(spec, st, 1, 'a', 5);
  insert(spec, st, 3, ['a', 'b'], 5);
  insert(spec, st, 9, 'c', 5);
  const direct = aggregateFromPlain(aggregateToPlain(st));
  assert.equal(direct.t, st.t);
  assert.equal([...direct.f!], [...st.f!]);
  assert.is(aggregateValue(spec, direct), aggregateValue(spec, st));
  advance(spec, direct, 12);
  advance(spec, st, 12);
  assert.is(aggregateValue(spec, direct), aggregateValue(spec, st));
  assert.throws(() => aggregateFromPlain([99]), (e: unknown) => e instanceof AggregateFormatError);
  assert.throws(() => aggregateFromPlain({ v: 1 }), (e: unknown) => e instanceof AggregateFormatError);
});

test('merging two states equals one state that saw both event sets', () => {
  fc.assert(
    fc.property(windows, reducers, fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 60 }), rawValue), { maxLength: 25 }), fc.integer({ min: 0, max: 80 }), (window, reducer, events, now) => {
      const spec: AggregateSpec = { window, reducer, cap: 10_000 };
      const a = createAggregate(spec, 0);
      const b = createAggregate(spec, 0);
      const both = createAggregate(spec, 0);
      // ties broken by arrival: a's events first, so feed `both` in the merged order
      const sorted = [...events].sort((p, q) => p[1] - q[1] || Number(q[0]) - Number(p[0]));
      for (const [toA, ts, raw] of events) {
        const x = reducerInput(spec, raw, false);
        const target = toA ? a : b;
        touch(target, ts);
        if (x !== IGNORED) insert(spec, target, ts, x, 0);
        else if (keepsIgnored(spec)) insert(spec, target, ts, null, 0);
      }
      for (const [, ts, raw] of sorted) {
        const x = reducerInput(spec, raw, false);
        touch(both, ts);
        if (x !== IGNORED) insert(spec, both, ts, x, 0);
        else if (keepsIgnored(spec)) insert(spec, both, ts, null, 0);
      }
      const merged = mergeAggregates(spec, a, b, now);
      advance(spec, both, now);
      assert.equal(aggregateValue(spec, merged), aggregateValue(spec, both));
      assert.is(merged.e0, both.e0);
    }),
    { numRuns: 2000 },
  );
});

test('mode: ties go to the alphabetically first value; minFrequency leaves it absent', () => {
  const spec: AggregateSpec = { window: { kind: 'all' }, reducer: { kind: 'mode', minFrequency: 2 }, cap: 100 };
  const st = createAggregate(spec, 0);
  for (const v of ['pear', 'apple', 'pear', 'apple', 'zoo']) insert(spec, st, 1, reducerInput(spec, v, false), 1);
  assert.is(aggregateValue(spec, st), 'apple');
  const once: AggregateSpec = { ...spec };
  const st2 = createAggregate(once, 0);
  insert(once, st2, 1, 'x', 1);
  assert.is(aggregateValue(once, st2), null);
});

test('the distinct-value cap drops new values and counts them, never grows past it', () => {
  const spec: AggregateSpec = { window: { kind: 'range', from: 0, to: 100 }, reducer: { kind: 'unique', count: true }, cap: 3 };
  const st = createAggregate(spec, 0);
  for (const v of ['a', 'b', 'c', 'd', 'e', 'a']) insert(spec, st, 1, v, 1);
  assert.is(aggregateValue(spec, st), 3);
  assert.is(st.dropped, 2);
});

test('numeric reducers ignore non-numeric values; numeric strings count', () => {
  const spec: AggregateSpec = { window: { kind: 'all' }, reducer: { kind: 'sum' }, cap: 100 };
  assert.is(reducerInput(spec, 'x', false), IGNORED);
  assert.is(reducerInput(spec, '12.5', false), 12.5);
  assert.is(reducerInput(spec, null, false), IGNORED);
  assert.is(reducerInput(spec, Number.NaN, false), IGNORED);
  assert.is(reducerInput(spec, true, false), IGNORED);
  // not finite: ignored like any other value that is not a number
  for (const x of [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '1e400', '-1e400']) assert.is(reducerInput(spec, x, false), IGNORED, String(x));
  assert.is(reducerInput({ ...spec, reducer: { kind: 'max', as: 'number' } }, '1e400', false), IGNORED);
});

test('an emptied window: count, sum and unique count are 0; avg, min, max, first, last, mode and the unique list have no value', () => {
  const empty: Array<[ReducerSpec, unknown]> = [
    [{ kind: 'count' }, 0],
    [{ kind: 'sum' }, 0],
    [{ kind: 'unique', count: true }, 0],
    [{ kind: 'avg' }, null],
    [{ kind: 'min', as: 'number' }, null],
    [{ kind: 'max', as: 'number' }, null],
    [{ kind: 'min', as: 'string' }, null],
    [{ kind: 'max', as: 'string' }, null],
    [{ kind: 'first' }, null],
    [{ kind: 'last' }, null],
    [{ kind: 'mode', minFrequency: 1 }, null],
    [{ kind: 'unique', count: false }, null],
  ];
  for (const window of [{ kind: 'range', from: 0, to: 10 }, { kind: 'session', gap: 10, keep: 1e9 }] as WindowSpec[]) {
    for (const [reducer, want] of empty) {
      const spec: AggregateSpec = { window, reducer, cap: 100 };
      const st = createAggregate(spec, 0);
      insert(spec, st, 1, reducerInput(spec, 4, false), 1);
      assert.is.not(aggregateValue(spec, st), want, `${reducer.kind} has a value while its event counts`);
      advance(spec, st, 11);
      assert.equal(aggregateValue(spec, st), want, `${window.kind} ${JSON.stringify(reducer)}`);
      // a profile that never had an event starts from the same value
      assert.equal(aggregateValue(spec, createAggregate(spec, 0)), want, `new ${JSON.stringify(reducer)}`);
    }
  }
});

test('a sum beyond the double range has no value, and has one again when the large values leave; the mean stays finite', () => {
  for (const window of [{ kind: 'all' }, { kind: 'range', from: 0, to: 10 }] as WindowSpec[]) {
    const sum: AggregateSpec = { window, reducer: { kind: 'sum' }, cap: 100 };
    const avg: AggregateSpec = { window, reducer: { kind: 'avg' }, cap: 100 };
    const s = createAggregate(sum, 0);
    const a = createAggregate(avg, 0);
    for (const spec of [sum, avg]) {
      const st = spec === sum ? s : a;
      insert(spec, st, 1, 1e308, 1);
      insert(spec, st, 2, 1e308, 2);
      insert(spec, st, 5, 2.5, 5);
    }
    assert.is(aggregateValue(sum, s), null, window.kind);
    assert.ok(Math.abs((aggregateValue(avg, a) as number) / ((1e308 / 3) * 2) - 1) < 1e-15, window.kind);
    if (window.kind === 'range') {
      advance(sum, s, 12); // both 1e308 left the window
      assert.is(aggregateValue(sum, s), 2.5);
    }
    // merges keep the large parts exactly
    const other = createAggregate(sum, 0);
    insert(sum, other, 12, -1e308, 12);
    assert.is(aggregateValue(sum, mergeAggregates(sum, s, other, 12)), window.kind === 'all' ? 1e308 + 2.5 : -1e308 + 2.5);
  }
});

test('count flips in closed form: ≥ k flips when the (n−k+1)-th oldest event expires', () => {
  const spec: AggregateSpec = { window: { kind: 'range', from: 0, to: 10 }, reducer: { kind: 'count' }, cap: 10 };
  const st = createAggregate(spec, 0);
  for (const ts of [1, 2, 3, 4, 5]) insert(spec, st, ts, null, 5);
  const ge = (k: number) => (c: number) => c >= k;
  assert.is(nextCountFlip(spec, st, ge(1), [1]), 15, 'count ≥ 1: the newest expires');
  assert.is(nextCountFlip(spec, st, ge(3), [3]), 13, 'count ≥ 3: the third newest');
  assert.is(nextCountFlip(spec, st, (c) => c === 0, [0]), 15);
  assert.is(nextCountFlip(spec, st, ge(9), [9]), Number.POSITIVE_INFINITY, 'false and only falling: never');
  assert.is(nextCountFlip(spec, st, (c) => c === 2, [2]), 13, 'equals 2: becomes true when two are left');
});

test.run();
