import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compilePlan } from '../../../engine/plan/compile.ts';
import { Runtime } from '../../../engine/runtime/runtime.ts';
import type { Change } from '../../../engine/runtime/change.ts';
import { aggregatesByFingerprint } from '../../../engine/runtime/profile-state.ts';
import type { DefinitionInput } from '../../../engine/plan/plan.ts';
import { audience, cmp, count, days, event, prop, where, within, between, computedTrait, agg, trait, not, and, expiresAfter, minutes } from '../../support/ast.ts';
import { track, identify } from '../../support/events.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const DAY = 86_400_000;

function setup(defs: DefinitionInput[]) {
  const { plan, failures } = compilePlan(defs);
  assert.is(failures.size, 0, [...failures.values()].map((f) => f.message).join('; '));
  const changes: Change[] = [];
  const rt = new Runtime({ plans: new Map([['spa_test', plan]]), onChange: (c) => changes.push(c) });
  return { rt, changes, plan };
}

const summary = (cs: Change[]) => cs.map((c) => `${c.kind === 'trait' ? `${c.traitKey}=${JSON.stringify(c.value)}` : `${c.kind} ${c.audienceKey}`} ${c.profileId} @${(c.at - T0) / DAY}d`);

test('within(7 days): enters on the event, exits exactly 7 days later with no traffic', () => {
  const { rt, changes } = setup([
    audience('viewed_expensive', cmp(count(event('Product Viewed', where(cmp(prop('price'), 'greater_than', 100)), within(days(7)))), 'at_least', 1)),
  ]);
  rt.replay([{ event: track('u1', 'Product Viewed', T0, { price: 150 }), profileId: 'u1' }]);
  rt.replay([{ event: track('u2', 'Product Viewed', T0 + DAY, { price: 50 }), profileId: 'u2' }]);
  rt.advanceTo(T0 + 30 * DAY);
  rt.close();
  assert.equal(summary(changes), ['enter viewed_expensive u1 @0d', 'exit viewed_expensive u1 @7d']);
});

test('between(7, 10 days) enters at ts+7d and leaves at ts+10d', () => {
  const { rt, changes } = setup([audience('lapsed', cmp(count(event('Login', between(days(7), days(10)))), 'at_least', 1))]);
  rt.replay([{ event: track('u1', 'Login', T0), profileId: 'u1' }]);
  rt.advanceTo(T0 + 20 * DAY);
  rt.close();
  assert.equal(summary(changes), ['enter lapsed u1 @7d', 'exit lapsed u1 @10d']);
});

test('a new event at the expiry instant keeps the profile in (no exit/enter pair)', () => {
  const { rt, changes } = setup([audience('active', cmp(count(event('Login', within(days(1)))), 'at_least', 1))]);
  rt.replay([{ event: track('u1', 'Login', T0), profileId: 'u1' }]);
  rt.replay([{ event: track('u1', 'Login', T0 + DAY), profileId: 'u1' }]);
  rt.advanceTo(T0 + 5 * DAY);
  assert.equal(summary(changes), ['enter active u1 @0d', 'exit active u1 @2d']);
});

test('computed trait sum over 30 days drops when the old order turns 30 days old', () => {
  const { rt, changes } = setup([
    computedTrait('revenue_30d', agg(event('Order Completed', within(days(30))), { kind: 'sum', of: prop('total') })),
    audience('big_spender', cmp(trait('revenue_30d'), 'greater_than', 100)),
  ]);
  rt.replay([{ event: track('u1', 'Order Completed', T0, { total: 80 }), profileId: 'u1' }]);
  rt.replay([{ event: track('u1', 'Order Completed', T0 + 10 * DAY, { total: 40.5 }), profileId: 'u1' }]);
  rt.advanceTo(T0 + 60 * DAY);
  assert.equal(summary(changes), [
    'revenue_30d=80 u1 @0d',
    'revenue_30d=120.5 u1 @10d',
    'enter big_spender u1 @10d',
    'revenue_30d=40.5 u1 @30d',
    'exit big_spender u1 @30d',
    'revenue_30d=0 u1 @40d',
  ]);
});

test('traits: last write by timestamp wins, null removes', () => {
  const { rt, changes } = setup([audience('pro', cmp(trait('plan'), 'equals', 'pro'))]);
  rt.replay([{ event: identify('u1', T0, { plan: 'pro' }), profileId: 'u1' }]);
  rt.replay([{ event: identify('u1', T0 - 5, { plan: 'free' }), profileId: 'u1' }]); // late and older: ignored
  rt.replay([{ event: identify('u1', T0 + DAY, { plan: null }), profileId: 'u1' }]);
  rt.advanceTo(T0 + 2 * DAY);
  assert.equal(summary(changes), ['enter pro u1 @0d', 'exit pro u1 @1d']);
});

test('did not: NOT count within 7 days enters for a profile that never did it', () => {
  const { rt, changes } = setup([
    audience('no_order', and(cmp(count(event('Product Viewed')), 'at_least', 1), not(cmp(count(event('Order Completed', within(days(7)))), 'at_least', 1)))),
  ]);
  rt.replay([{ event: track('u1', 'Product Viewed', T0), profileId: 'u1' }]);
  rt.replay([{ event: track('u1', 'Order Completed', T0 + DAY), profileId: 'u1' }]);
  rt.advanceTo(T0 + 10 * DAY);
  assert.equal(summary(changes), ['enter no_order u1 @0d', 'exit no_order u1 @1d', 'enter no_order u1 @8d']);
});

test('identical sub-expressions across definitions share one aggregate node and one state', () => {
  const shared = () => count(event('Order Completed', within(days(30))));
  const { rt, plan } = setup([
    audience('a', cmp(shared(), 'at_least', 1)),
    audience('b', cmp(shared(), 'at_least', 3)),
    audience('c', and(cmp(shared(), 'at_most', 2), cmp(trait('plan'), 'equals', 'pro'))),
  ]);
  assert.is(plan.aggregates.length, 1);
  rt.replay([{ event: track('u1', 'Order Completed', T0), profileId: 'u1' }]);
  rt.close();
  assert.is(aggregatesByFingerprint(rt.profile('spa_test', 'u1')!).size, 1);
});

test('a threshold count keeps only the newest events it needs; a computed count keeps them all', () => {
  const stream = () => event('Page Viewed', within(days(30)));
  const { rt, plan } = setup([audience('regular', cmp(count(stream()), 'at_least', 3)), computedTrait('views_30d', count(stream()))]);
  assert.is(plan.aggregates.length, 2, 'the bounded and the unbounded count are different nodes');
  for (let i = 0; i < 1000; i++) rt.replay([{ event: track('heavy', 'Page Viewed', T0 + i * 1000), profileId: 'heavy' }]);
  rt.close();
  const states = [...aggregatesByFingerprint(rt.profile('spa_test', 'heavy')!).values()].map((s) => ('hi' in s ? s.hi - s.lo : -1)).sort((a, b) => a - b);
  assert.equal(states, [4, 1000]);
});

test('unique/mode keep at most `distinctCap` values per profile; the rest are counted, never stored', () => {
  const { plan } = compilePlan([computedTrait('pages', agg(event('Page Viewed'), { kind: 'unique', of: prop('path'), count: true }))], { distinctCap: 3, retentionMs: 0 });
  const rt = new Runtime({ plans: new Map([['spa_test', plan]]), onChange: () => {} });
  for (const path of ['/a', '/b', '/c', '/d', '/e', '/a']) rt.replay([{ event: track('u', 'Page Viewed', T0, { path }), profileId: 'u' }]);
  rt.close();
  assert.is(rt.droppedValues, 2);
});

test('session windows: the value resets after the inactivity gap, exactly', () => {
  const { rt, changes } = setup([computedTrait('session_pages', agg(event('Page Viewed', expiresAfter(minutes(30))), { kind: 'count' }))]);
  const MIN = 60_000;
  for (const m of [0, 10, 35]) rt.replay([{ event: track('u', 'Page Viewed', T0 + m * MIN), profileId: 'u' }]);
  rt.replay([{ event: track('u', 'Page Viewed', T0 + 100 * MIN), profileId: 'u' }]);
  rt.advanceTo(T0 + 300 * MIN);
  assert.equal(
    changes.map((c) => `${(c.at - T0) / MIN}m=${String((c as { value: unknown }).value)}`),
    ['0m=1', '10m=2', '35m=3', '65m=0', '100m=1', '130m=0'],
  );
});

test('max(… as string) orders text, max(…) orders numbers; non-numeric values are ignored by the numeric one', () => {
  const { rt, changes } = setup([
    computedTrait('max_text', agg(event('E'), { kind: 'max', of: prop('v'), as: 'string' })),
    computedTrait('max_number', agg(event('E'), { kind: 'max', of: prop('v'), as: 'number' })),
  ]);
  for (const v of [9, '10', 'x', 2]) rt.replay([{ event: track('u', 'E', T0, { v }), profileId: 'u' }]);
  rt.close();
  const last = (key: string) => [...changes].reverse().find((c) => c.kind === 'trait' && c.traitKey === key) as { value: unknown };
  assert.is(last('max_text').value, 'x', "text order: 'x' > '9' > '2' > '10'");
  assert.is(last('max_number').value, 10, "numbers and numeric strings: '10' is 10; 'x' is ignored");
});

test.run();
