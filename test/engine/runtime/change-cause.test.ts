/**
 * A change's cause is the event that made that definition change: the latest event of the instant
 * that touched a node or trait the definition reads (through the definitions it reads too), else
 * time — never another event that merely shared the instant. The explanation cites the same event.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { explain } from '../../../engine/history/explain.ts';
import { pack, unpack } from 'msgpackr';
import { compilePlan } from '../../../engine/plan/compile.ts';
import type { Change } from '../../../engine/runtime/change.ts';
import { profileFromPlain, profileToPlain } from '../../../engine/runtime/profile-state.ts';
import { Runtime, type PendingEntry } from '../../../engine/runtime/runtime.ts';
import { defineQuery, recordingRuntime } from '../../support/runtime-harness.ts';
import { identify, track } from '../../support/events.ts';

const T = Date.parse('2026-11-29T10:00:00Z');
const DAY = 86_400_000;

const shoeViewers = defineQuery('shoe_viewers', "event('Product Viewed').where(property('category') = 'shoes').within(7 days).count() >= 1");
const revenue = defineQuery('revenue_30d', "event('Order Completed').within(30 days).sum(property('total'))", 'trait');

const causeOf = (changes: readonly Change[], key: string) =>
  changes.filter((c) => (c.kind === 'trait' ? c.traitKey : c.audienceKey) === key).map((c) => [c.kind, c.at, c.cause]);

/** The README walkthrough's batch: one live batch, so both events share one instant. */
function walkthrough(defs = [shoeViewers, revenue]) {
  const { rt, changes } = recordingRuntime(defs);
  const viewed = track('alice', 'Product Viewed', T, { category: 'shoes' }, { messageId: 'm-viewed' });
  const ordered = track('alice', 'Order Completed', T, { total: 42.5 }, { messageId: 'm-ordered' });
  rt.live([{ event: viewed, profileId: 'use_alice' }, { event: ordered, profileId: 'use_alice' }], T);
  return { rt, changes, viewed, ordered };
}

test('the walkthrough batch: Product Viewed causes the shoe_viewers enter, Order Completed the revenue change', () => {
  const { changes } = walkthrough();
  assert.equal(causeOf(changes, 'shoe_viewers'), [['enter', T, { type: 'event', messageId: 'm-viewed' }]]);
  assert.equal(causeOf(changes, 'revenue_30d'), [['trait', T, { type: 'event', messageId: 'm-ordered' }]]);
  assert.ok(changes.find((c) => c.kind === 'enter')!.id.endsWith('.e.mm-viewed'));
});

test('the explanation of the enter cites Product Viewed, as the change does', () => {
  const { viewed, ordered } = walkthrough();
  const events = [viewed, ordered].map((event, seq) => ({ profileId: 'use_alice', seq, applied: T, event }));
  const x = explain({ space: 'spa_test', profileId: 'use_alice', at: T, target: shoeViewers, references: [], events, merges: [] });
  assert.equal(x.lastChange?.cause, { type: 'event', messageId: 'm-viewed' });
  assert.equal(x.events.map((e) => e.event.messageId), ['m-viewed']);
});

test('a definition reading another takes its cause; the latest event wins among what it reads', () => {
  const viewers = defineQuery('viewers', "trait('shoe_viewers') = true");
  const both = defineQuery('both', "trait('shoe_viewers') = true AND trait('revenue_30d') > 10");
  const { changes } = walkthrough([shoeViewers, revenue, viewers, both]);
  assert.equal(causeOf(changes, 'viewers'), [['enter', T, { type: 'event', messageId: 'm-viewed' }]]);
  assert.equal(causeOf(changes, 'both'), [['enter', T, { type: 'event', messageId: 'm-ordered' }]]);
});

test('a custom trait write causes what reads the trait, not the event after it', () => {
  const vip = defineQuery('vips', "trait('vip') = true");
  const { rt, changes } = recordingRuntime([vip, revenue]);
  rt.live(
    [
      { event: identify('bob', T, { vip: true }, { messageId: 'm-identify' }), profileId: 'use_bob' },
      { event: track('bob', 'Order Completed', T, { total: 5 }, { messageId: 'm-order' }), profileId: 'use_bob' },
    ],
    T,
  );
  assert.equal(causeOf(changes, 'vips'), [['enter', T, { type: 'event', messageId: 'm-identify' }]]);
  assert.equal(causeOf(changes, 'revenue_30d'), [['trait', T, { type: 'event', messageId: 'm-order' }]]);
});

test('a window edge at the instant of an unrelated event is caused by time', () => {
  const { rt, changes } = walkthrough();
  // exactly 7 days after the view, another order arrives: the exit is the window's, not the order's
  rt.live([{ event: track('alice', 'Order Completed', T + 7 * DAY, { total: 1 }, { messageId: 'm-later' }), profileId: 'use_alice' }], T + 7 * DAY);
  assert.equal(causeOf(changes, 'shoe_viewers').at(-1), ['exit', T + 7 * DAY, { type: 'time' }]);
  assert.equal(causeOf(changes, 'revenue_30d').at(-1), ['trait', T + 7 * DAY, { type: 'event', messageId: 'm-later' }]);
});

test('a restart inside the instant keeps each definition its cause (the checkpointed pending work carries them)', () => {
  const events = [
    { event: track('alice', 'Product Viewed', T, { category: 'shoes' }, { messageId: 'm-viewed' }), profileId: 'use_alice' },
    { event: track('alice', 'Order Completed', T, { total: 42.5 }, { messageId: 'm-ordered' }), profileId: 'use_alice' },
  ];
  const { rt, changes } = recordingRuntime([shoeViewers, revenue]);
  rt.replay(events);
  // the checkpoint: the profile's state and the open instant's pending work, as msgpack bytes
  const saved = pack({ state: profileToPlain(rt.profile('spa_test', 'use_alice')!), pending: rt.pendingEntries() });
  rt.close();
  const { state, pending } = unpack(saved) as { state: unknown; pending: PendingEntry[] };
  const restored: Change[] = [];
  const rt2 = new Runtime({
    plans: new Map([['spa_test', compilePlan([shoeViewers, revenue]).plan]]),
    source: { load: (_space, id) => (id === 'use_alice' ? profileFromPlain(state) : undefined) },
    onChange: (c) => restored.push(c),
    watermark: rt.watermark,
  });
  for (const p of pending) rt2.restorePending(p);
  rt2.close();
  assert.equal(restored.map((c) => c.id), changes.map((c) => c.id));
  assert.equal(causeOf(restored, 'shoe_viewers'), [['enter', T, { type: 'event', messageId: 'm-viewed' }]]);
});

test.run();
