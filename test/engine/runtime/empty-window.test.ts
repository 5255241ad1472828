/**
 * Computed traits over windows that empty, and sums beyond the double range: one rule for every
 * reducer — count, sum and unique count read 0, every other reducer has no value (the trait is
 * removed, never `null` or `[]`); an overflowed sum has no value, is counted, and reported once per
 * definition.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Change } from '../../../engine/runtime/change.ts';
import { compilePlan } from '../../../engine/plan/compile.ts';
import { Runtime } from '../../../engine/runtime/runtime.ts';
import { defineQuery, recordingRuntime } from '../../support/runtime-harness.ts';
import { track } from '../../support/events.ts';

const T = Date.parse('2026-03-01T00:00:00Z');
const HOUR = 3_600_000;

const REDUCERS: Array<[string, unknown]> = [
  ['count()', 0],
  ["sum(property('p'))", 0],
  ["unique(property('p')).count()", 0],
  ["avg(property('p'))", undefined],
  ["min(property('p'))", undefined],
  ["max(property('p'))", undefined],
  ["first(property('p'))", undefined],
  ["last(property('p'))", undefined],
  ["mode(property('p'), 1)", undefined],
  ["unique(property('p'))", undefined],
];

test('when every event left the window: count, sum and unique count are 0, every other reducer has no value', () => {
  const defs = REDUCERS.map(([reducer], i) => defineQuery(`t${i}`, `event('Order Completed').within(1 hour).${reducer}`, 'trait'));
  const { rt, changes } = recordingRuntime(defs);
  rt.replay([{ event: track('u1', 'Order Completed', T, { p: 4 }), profileId: 'u1' }]);
  rt.advanceTo(T + 2 * HOUR);
  REDUCERS.forEach(([reducer, want], i) => {
    const mine = changes.filter((c): c is Extract<Change, { kind: 'trait' }> => c.kind === 'trait' && c.traitKey === `t${i}`);
    assert.is.not(mine[0]?.value, undefined, `${reducer} has a value while the event counts`);
    const last = mine.at(-1)!;
    assert.is(last.at, T + HOUR, reducer);
    assert.equal(last.value, want, reducer);
    assert.ok(!('value' in last) || last.value !== null, `${reducer}: no value is no trait, never null`);
  });
});

test('a sum beyond the double range has no value, is counted, and is reported once per definition; it comes back when the values leave', () => {
  const revenue = defineQuery('revenue', "event('Order Completed').within(1 hour).sum(property('total'))", 'trait');
  const big = defineQuery('big', "event('Order Completed').within(1 hour).sum(property('total')) > 100");
  const { plan } = compilePlan([revenue, big]);
  const changes: Change[] = [];
  const reports: Array<[string, readonly string[]]> = [];
  const rt = new Runtime({ plans: new Map([['spa_test', plan]]), onChange: (c) => changes.push(c), onOverflow: (space, keys) => reports.push([space, keys]) });
  const order = (ts: number, total: unknown) => ({ event: track('u1', 'Order Completed', ts, { total }), profileId: 'u1' });
  rt.replay([order(T, 1e308)]);
  rt.replay([order(T + 1000, 1e308)]);
  rt.replay([order(T + 2000, 1e308), order(T + 30 * 60_000, 7)]);
  rt.advanceTo(T + HOUR + 2001);
  const values = changes.filter((c) => c.kind === 'trait').map((c) => [c.at - T, (c as { value: unknown }).value]);
  assert.equal(values, [
    [0, 1e308],
    [1000, undefined], // 2e308: beyond the range
    [HOUR + 1000, 1e308], // two of the three 1e308 left the window: 1e308 + 7 rounds to 1e308
    [HOUR + 2000, 7],
  ]);
  // the audience reads the same no value: not > 100 while overflowed
  assert.equal(changes.filter((c) => c.kind !== 'trait').map((c) => [c.kind, c.at - T]), [
    ['enter', 0],
    ['exit', 1000],
    ['enter', HOUR + 1000],
    ['exit', HOUR + 2000],
  ]);
  assert.equal(reports, [['spa_test', ['revenue', 'big']]]);
  assert.ok(rt.overflowedValues >= 2, String(rt.overflowedValues));
});

test('Infinity, NaN and numeric strings beyond the range are ignored by sum, avg, min and max', () => {
  const defs = ['sum', 'avg', 'min', 'max'].map((r) => defineQuery(r, `event('Paid').${r}(property('x'))`, 'trait'));
  const { rt, changes } = recordingRuntime(defs);
  rt.replay([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, '1e400', 3].map((x, i) => ({ event: track('u1', 'Paid', T + i, { x }), profileId: 'u1' })));
  rt.close();
  const last = (key: string) => changes.filter((c) => c.kind === 'trait' && c.traitKey === key).at(-1) as { value: unknown } | undefined;
  assert.equal(['sum', 'avg', 'min', 'max'].map((k) => last(k)?.value), [3, 3, 3, 3]);
});

test.run();
