/** The documented query-language examples (spec §1.4) that use event and trait conditions: parse, compile and evaluate as described. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import { identify, track } from '../support/events.ts';
import { defineQuery, recordingRuntime } from '../support/runtime-harness.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-02-01T00:00:00Z');

const define = (key: string, kind: 'audience' | 'trait', query: string) => defineQuery(key, query, kind);

function engine(defs: DefinitionInput[]) {
  const { rt, changes } = recordingRuntime(defs);
  const at = (u: string, key: string, t: number) => {
    const enters = changes.filter((c) => c.profileId === u && c.at <= t && (c.kind === 'trait' ? c.traitKey : c.audienceKey) === key);
    const last = enters[enters.length - 1];
    return last === undefined ? undefined : last.kind === 'trait' ? last.value : last.kind === 'enter';
  };
  return { rt, changes, at };
}

test("event('Shoes Bought').where( property('price') >= 100 ).within(7 days).count() >= 1", () => {
  const { rt, at } = engine([define('shoes', 'audience', "event('Shoes Bought').where( property('price') >= 100 ).within(7 days).count() >= 1")]);
  rt.replay([{ event: track('cheap', 'Shoes Bought', T0, { price: 99.99 }), profileId: 'cheap' }]);
  rt.replay([{ event: track('rich', 'Shoes Bought', T0 + DAY, { price: 100 }), profileId: 'rich' }]);
  rt.advanceTo(T0 + 20 * DAY);
  rt.close();
  assert.is(at('cheap', 'shoes', T0 + 2 * DAY), undefined);
  assert.is(at('rich', 'shoes', T0 + DAY), true);
  assert.is(at('rich', 'shoes', T0 + 8 * DAY - 1), true);
  assert.is(at('rich', 'shoes', T0 + 8 * DAY), false, 'leaves exactly 7 days after the purchase');
});

test("NOT ( event('Shoes Bought').count() >= 1 AND trait('total_spend') > 200 )", () => {
  const { rt, at } = engine([define('not_big', 'audience', "NOT ( event('Shoes Bought').count() >= 1 AND trait('total_spend') > 200 )")]);
  rt.replay([{ event: identify('u', T0, { total_spend: 500 }), profileId: 'u' }]);
  rt.replay([{ event: track('u', 'Shoes Bought', T0 + DAY), profileId: 'u' }]);
  rt.replay([{ event: identify('u', T0 + 2 * DAY, { total_spend: 150 }), profileId: 'u' }]);
  rt.advanceTo(T0 + 3 * DAY);
  assert.is(at('u', 'not_big', T0), true, 'no purchase yet');
  assert.is(at('u', 'not_big', T0 + DAY), false, 'bought and spends > 200');
  assert.is(at('u', 'not_big', T0 + 2 * DAY), true, 'spend dropped');
});

test("computed traits: within(30 days).avg / first / mode(…, 2), where(…).min", () => {
  const { rt, at } = engine([
    define('avg_spend', 'trait', "event('Shoes Bought').within(30 days).avg(property('spend'))"),
    define('min_spend', 'trait', "event('Shoes Bought').where( property('price') > 100 AND property('brand') = 'My Brand' ).min(property('spend'))"),
    define('first_spend', 'trait', "event('Shoes Bought').within(30 days).first(property('spend'))"),
    define('mode_spend', 'trait', "event('Shoes Bought').within(30 days).mode(property('spend'), 2)"),
  ]);
  const buy = (t: number, spend: number, price: number, brand: string) =>
    rt.replay([{ event: track('u', 'Shoes Bought', t, { spend, price, brand }), profileId: 'u' }]);
  buy(T0, 10, 150, 'My Brand');
  buy(T0 + DAY, 30, 50, 'My Brand');
  buy(T0 + 2 * DAY, 30, 200, 'Other');
  buy(T0 + 3 * DAY, 5, 120, 'My Brand');
  rt.advanceTo(T0 + 3 * DAY + 1);
  assert.is(at('u', 'avg_spend', T0 + 3 * DAY), 18.75);
  assert.is(at('u', 'min_spend', T0 + 3 * DAY), 5, 'min over the filtered events, all time');
  assert.is(at('u', 'first_spend', T0 + 3 * DAY), 10);
  assert.is(at('u', 'mode_spend', T0 + 3 * DAY), '30', 'the value tracked at least twice');
  rt.advanceTo(T0 + 31 * DAY + 1);
  assert.is(at('u', 'first_spend', T0 + 31 * DAY), 30, 'the first two purchases left the window');
  assert.is(at('u', 'avg_spend', T0 + 31 * DAY), 17.5);
  assert.is(at('u', 'mode_spend', T0 + 31 * DAY), undefined, "'30' is seen only once in the window now: no value");
  assert.is(at('u', 'min_spend', T0 + 31 * DAY), 5);
});

test('audience keys: another audience as trait(<key>), and custom trait paths with dots', () => {
  const { rt, at } = engine([
    define('berliners', 'audience', "trait('address.city') = 'Berlin'"),
    define('active_berliners', 'audience', "trait('berliners') = true AND event('Logged In').within(1 day).count() >= 1"),
  ]);
  rt.replay([{ event: identify('u', T0, { address: { city: 'Berlin' } }), profileId: 'u' }]);
  rt.replay([{ event: track('u', 'Logged In', T0 + 1000), profileId: 'u' }]);
  rt.advanceTo(T0 + 2 * DAY);
  assert.is(at('u', 'berliners', T0), true);
  assert.is(at('u', 'active_berliners', T0 + 1000), true);
  assert.is(at('u', 'active_berliners', T0 + DAY + 1000), false);
});

test('date comparators on traits flip at their exact instants', () => {
  const { rt, at, changes } = engine([
    define('recent', 'audience', "trait('signup').within_last(7 days)"),
    define('renewal_soon', 'audience', "trait('renews').within_next(3 days)"),
  ]);
  rt.replay([{ event: identify('u', T0, { signup: new Date(T0 - 2 * DAY).toISOString(), renews: new Date(T0 + 10 * DAY).toISOString() }), profileId: 'u' }]);
  rt.advanceTo(T0 + 30 * DAY);
  assert.is(at('u', 'recent', T0), true);
  assert.is(at('u', 'recent', T0 + 5 * DAY), true, 'inclusive: signup + 7 days is still within the last 7 days');
  assert.is(at('u', 'recent', T0 + 5 * DAY + 1), false);
  assert.is(at('u', 'renewal_soon', T0 + 7 * DAY - 1), undefined, 'not yet within the next 3 days');
  assert.is(at('u', 'renewal_soon', T0 + 7 * DAY), true);
  assert.is(at('u', 'renewal_soon', T0 + 10 * DAY + 1), false);
  assert.is(changes.length, 3 + 1);
});

test.run();
