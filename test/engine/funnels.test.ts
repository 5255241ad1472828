/** Funnels and dynamic property references: the spec's examples, abandoned-cart semantics, exact deadlines, bounded state. */
import { test } from 'uvu';
import fc from 'fast-check';
import * as assert from 'uvu/assert';
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import { compilePlan, DEFAULT_COMPILE_OPTIONS } from '../../engine/plan/compile.ts';
import type { Change } from '../../engine/runtime/change.ts';
import { Runtime } from '../../engine/runtime/runtime.ts';
import { aggregatesByFingerprint } from '../../engine/runtime/profile-state.ts';
import { identify, track } from '../support/events.ts';
import { defineQuery, recordingRuntime } from '../support/runtime-harness.ts';
import { checkAgainstOracle } from '../oracle/harness.ts';
import type { HistoryEntry } from '../oracle/oracle.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse('2026-04-01T00:00:00Z');

const define = (key: string, query: string, kind: 'audience' | 'trait' = 'audience') => defineQuery(key, query, kind);

function engine(defs: DefinitionInput[]) {
  const { rt, changes } = recordingRuntime(defs);
  const send = (e: ReturnType<typeof track>) => rt.replay([{ event: e, profileId: e.userId! }]);
  const log = (u: string) => changes.filter((c) => c.profileId === u).map((c) => `${c.kind === 'trait' ? `${c.traitKey}=${String(c.value)}` : `${c.kind} ${c.audienceKey}`} @${(c.at - T0) / HOUR}h`);
  return { rt, changes, send, log };
}

test('began checkout without completing within 1 hour: enters exactly at the deadline; an order in time cancels it', () => {
  const { rt, send, log } = engine([define('abandoned_checkout', "event('Checkout Started').where(event('Order Completed').within(parent: 1 hour).count() = 0).within(7 days).count() >= 1")]);
  send(track('slow', 'Checkout Started', T0));
  send(track('fast', 'Checkout Started', T0));
  send(track('fast', 'Order Completed', T0 + HOUR / 2));
  send(track('late', 'Checkout Started', T0));
  rt.advanceTo(T0 + 2 * HOUR);
  send(track('late', 'Order Completed', T0 + 2 * HOUR)); // after the deadline: does not count
  rt.advanceTo(T0 + 10 * DAY);
  assert.equal(log('slow'), ['enter abandoned_checkout @1h', 'exit abandoned_checkout @168h']);
  assert.equal(log('fast'), []);
  assert.equal(log('late'), ['enter abandoned_checkout @1h', 'exit abandoned_checkout @168h']);
});

test('a late child of a parent already decided still counts: did-not turns false, did turns true, when it arrives', () => {
  const { rt, send, log } = engine([
    define('abandoned', "event('Checkout Started').where(event('Order Completed').within(parent: 1 hour).count() = 0).within(7 days).count() >= 1"),
    define('converted', "event('Checkout Started').where(event('Order Completed').within(parent: 1 hour).count() >= 1).within(7 days).count() >= 1"),
  ]);
  send(track('u', 'Checkout Started', T0));
  rt.advanceTo(T0 + 2 * HOUR); // the first hour closed with no order: decided
  send(track('u', 'Checkout Started', T0 + 2 * HOUR)); // evaluated again after the decision
  rt.advanceTo(T0 + 2.5 * HOUR);
  send(track('u', 'Order Completed', T0 + HOUR / 2)); // late, inside the first hour
  rt.advanceTo(T0 + 4 * HOUR);
  assert.equal(log('u'), ['enter abandoned @1h', 'exit abandoned @2.5h', 'enter converted @2.5h', 'enter abandoned @3h']);
});

test('abandoned cart over every parent instance: Added → Ordered → Added is still abandoned', () => {
  const { rt, send, log } = engine([define('cart', "event('Product Added').where(event('Order Completed').within(parent: 1 day).count() = 0).within(7 days).count() >= 1")]);
  send(track('u', 'Product Added', T0));
  send(track('u', 'Order Completed', T0 + HOUR));
  send(track('u', 'Product Added', T0 + 30 * HOUR));
  rt.advanceTo(T0 + 10 * DAY);
  // the first add is followed by an order; the second is not: the user enters a day after it
  assert.equal(log('u'), ['enter cart @54h', 'exit cart @198h']);
});

test('Shoes Bought, then Shoes Returned within 5 days, priced at least the average spend (funnel + dynamic trait reference)', () => {
  const { rt, send, log } = engine([
    define(
      'returners',
      "event('Shoes Bought').where( property('price') >= trait('avg_spend') AND event('Shoes Returned').within(parent: 5 days).count() >= 1 ).within(30 days).count() >= 1",
    ),
  ]);
  send(identify('u', T0, { avg_spend: 100 }));
  send(track('u', 'Shoes Bought', T0 + HOUR, { price: 120 }));
  send(track('u', 'Shoes Returned', T0 + 3 * DAY));
  send(identify('v', T0, { avg_spend: 100 }));
  send(track('v', 'Shoes Bought', T0 + HOUR, { price: 80 }));
  send(track('v', 'Shoes Returned', T0 + 2 * DAY));
  send(identify('w', T0, { avg_spend: 100 }));
  send(track('w', 'Shoes Bought', T0 + HOUR, { price: 150 }));
  send(track('w', 'Shoes Returned', T0 + 6 * DAY)); // too late
  rt.advanceTo(T0 + 10 * DAY);
  send(identify('v', T0 + 10 * DAY, { avg_spend: 50 })); // the trait changes: v's purchase now qualifies
  rt.advanceTo(T0 + 40 * DAY);
  assert.equal(log('u'), ['enter returners @72h', 'exit returners @721h']);
  assert.equal(log('v'), ['enter returners @240h', 'exit returners @721h']);
  assert.equal(log('w'), []);
});

test('viewed product 123 and did not order that same product within 7 days (property(parent:) reference)', () => {
  const { rt, send, log } = engine([
    define(
      'viewed_not_ordered',
      "event('Product Viewed').where( property('product_id') = '123' AND event('Order Completed').where(property('product_id') = property(parent: 'product_id')).within(parent: 7 days).count() = 0 ).within(30 days).count() >= 1",
    ),
  ]);
  send(track('a', 'Product Viewed', T0, { product_id: '123' }));
  send(track('a', 'Order Completed', T0 + DAY, { product_id: '999' })); // another product: still counts
  send(track('b', 'Product Viewed', T0, { product_id: '123' }));
  send(track('b', 'Order Completed', T0 + DAY, { product_id: '123' }));
  rt.advanceTo(T0 + 60 * DAY);
  assert.equal(log('a'), ['enter viewed_not_ordered @168h', 'exit viewed_not_ordered @720h']);
  assert.equal(log('b'), []);
});

test('three steps: A, then B within 1 hour, then C within 2 hours of that B', () => {
  const { rt, send, log } = engine([
    define('three', "event('A').where(event('B').where(event('C').within(parent: 2 hours).count() >= 1).within(parent: 1 hour).count() >= 1).within(1 day).count() >= 1"),
  ]);
  send(track('yes', 'A', T0));
  send(track('yes', 'B', T0 + HOUR / 2));
  send(track('yes', 'C', T0 + 2 * HOUR));
  send(track('no', 'A', T0));
  send(track('no', 'C', T0 + HOUR / 4)); // C before B: not a sequence
  send(track('no', 'B', T0 + HOUR / 2));
  rt.advanceTo(T0 + 3 * DAY);
  assert.equal(log('yes'), ['enter three @2h', 'exit three @24h']);
  assert.equal(log('no'), []);
});

test('funnel state stays bounded: instances out of the window are dropped', () => {
  const { rt, send } = engine([define('cart', "event('Product Added').where(event('Order Completed').within(parent: 1 hour).count() = 0).within(1 day).count() >= 1")]);
  for (let i = 0; i < 2000; i++) {
    send(track('heavy', 'Product Added', T0 + i * 10 * 60_000));
    if (i % 3 === 0) send(track('heavy', 'Order Completed', T0 + i * 10 * 60_000 + 60_000));
  }
  rt.advanceTo(T0 + 2000 * 10 * 60_000);
  rt.close();
  const [state] = [...aggregatesByFingerprint(rt.profile('spa_test', 'heavy')!).values()];
  const streams = (state as { streams: Array<{ t: number[] }> }).streams.map((s) => s.t.length);
  assert.ok(streams[0]! <= 145, `parents kept: ${streams[0]} (one day of adds every 10 minutes is 144)`);
  assert.ok(streams[1]! <= 60, `children kept: ${streams[1]}`);
});

test('a checkout that arrives 29.7 h after its order still finds it (live, late events of any lateness count as the oracle counts them)', () => {
  const defs = [
    define('checkout_then_order', "event('Checkout Started').where(event('Order Completed').within(parent: 1 hour).count() >= 1).count() >= 1"),
    define('checkout_then_order_7d', "event('Checkout Started').where(event('Order Completed').within(parent: 1 hour).count() >= 1).within(7 days).count() >= 1"),
    define('checkout_no_order_7d', "event('Checkout Started').where(event('Order Completed').within(parent: 1 hour).count() = 0).within(7 days).count() >= 1"),
  ];
  const { rt, changes, log } = engine(defs);
  const history: HistoryEntry[] = [];
  const arrive = (e: ReturnType<typeof track>, wall: number) => {
    rt.live([{ event: e, profileId: e.userId! }], wall);
    history.push({ event: e, profileId: e.userId!, arrival: rt.watermark, seq: history.length });
  };
  const checkoutAt = T0 + 10 * 60_000;
  arrive(track('offline', 'Order Completed', T0 + 20 * 60_000), T0 + 20 * 60_000);
  for (let h = 1; h <= 29; h++) rt.live([], T0 + h * HOUR); // the clock moves on (state is compacted as it goes)
  const late = T0 + 20 * 60_000 + 29.7 * HOUR;
  arrive(track('offline', 'Checkout Started', checkoutAt), late); // the offline client's checkout, 29.7 h late
  const end = T0 + 9 * DAY;
  rt.advanceTo(end);
  rt.close();
  const at = `@${(late - T0) / HOUR}h`;
  assert.equal(log('offline'), [`enter checkout_then_order ${at}`, `enter checkout_then_order_7d ${at}`, `exit checkout_then_order_7d @${(checkoutAt + 7 * DAY - T0) / HOUR}h`]);
  checkAgainstOracle(defs, { changes, history, end });
});

test('funnels with parents and children of any lateness (up to 8 days, shuffled arrival): engine = oracle, live and with a retention just above the largest lateness', () => {
  const forms = ['>= 1', '= 0', '>= 2'];
  const windows = ['', '.within(3 days)', '.between(1 day, 5 days)'];
  fc.assert(
    fc.property(
      fc.record({
        form: fc.constantFrom(...forms),
        window: fc.constantFrom(...windows),
        t: fc.integer({ min: 1, max: 30 }),
        grandchild: fc.boolean(),
        events: fc.array(fc.record({ name: fc.constantFrom('A', 'B', 'C'), user: fc.constantFrom('u1', 'u2'), h: fc.integer({ min: 0, max: 200 }) }), { minLength: 1, maxLength: 14 }),
        order: fc.array(fc.nat(), { minLength: 14, maxLength: 14 }),
        finite: fc.boolean(),
      }),
      ({ form, window, t, grandchild, events, order, finite }) => {
        const child = grandchild ? `event('B').where(event('C').within(parent: ${t} hours).count() >= 1)` : "event('B')";
        const defs = [define('f', `event('A').where(${child}.within(parent: ${t} hours).count() ${form})${window}.count() >= 1`)];
        // arrival: a random permutation of the events, each arriving when the clock has reached it or later
        const sent = events.map((e, i) => ({ e: track(e.user, e.name, T0 + e.h * HOUR), key: order[i]! }));
        sent.sort((a, b) => a.key - b.key);
        const history: HistoryEntry[] = [];
        let wall = T0;
        const run = (retentionMs: number) => {
          const { plan, failures } = compilePlan(defs, { ...DEFAULT_COMPILE_OPTIONS, retentionMs });
          assert.is(failures.size, 0);
          const changes: Change[] = [];
          const rt = new Runtime({ plans: new Map([['spa_test', plan]]), onChange: (c) => changes.push(c) });
          history.length = 0;
          wall = T0;
          for (const { e } of sent) {
            wall = Math.max(wall + HOUR, e.timestamp);
            rt.live([{ event: e, profileId: e.userId! }], wall);
            history.push({ event: e, profileId: e.userId!, arrival: rt.watermark, seq: history.length });
          }
          const end = T0 + 210 * HOUR + 8 * DAY;
          rt.advanceTo(end);
          rt.close();
          checkAgainstOracle(defs, { changes, history, end });
        };
        run(0);
        if (finite) run(Math.max(1, ...history.map((h) => h.arrival - h.event.timestamp)));
      },
    ),
    { numRuns: Number(process.env.FLOCK_ORACLE_RUNS ?? 1000) / 2 },
  );
});

test.run();
