/**
 * A new identifier on a profile re-sends its current values for that identifier (segment-surface.md
 * §4.3): alice, a member sent to her user id, later gets an email; at her next delivered change the
 * audience she is in goes to the email too — once, and to that identifier only.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deliveryOver, type Delivery } from '../../support/delivery.ts';
import { deduplicated, startReceiver, type Receiver } from '../../support/receiver.ts';
import { event, NOW, serviceApp, type ServiceApp } from '../../support/service-app.ts';

type Json = Record<string, any>;

/** An app with identity and destinations, a webhook receiver and delivery over them: `body` runs, then all close. */
async function withWebhook(config: Parameters<typeof deliveryOver>[1], body: (t: { s: ServiceApp; receiver: Receiver; delivery: Delivery }) => Promise<void>): Promise<void> {
  const s = serviceApp({ identity: true, withDestinations: true });
  const receiver = await startReceiver();
  const delivery = await deliveryOver(s, config);
  try {
    await body({ s, receiver, delivery });
  } finally {
    await delivery.close();
    await receiver.close();
    await s.close();
  }
}

test('a profile’s new email gets the values it did not have', () =>
  withWebhook({}, async ({ s, receiver, delivery }) => {
    const buyers = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'b', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' } })).id;
    const views = (await s.registry.create({ space: 'spa_a', kind: 'trait', key: 'views', name: 'v', definition: { query: "event('Product Viewed').count()", type: 'USERS' } })).id;
    await s.runEngine([event({ type: 'track', event: 'Order Completed', userId: 'alice', timestamp: NOW - 5000 })]);
    const d = ((await (await s.manage('POST', '/spaces/spa_a/destinations', { name: 'crm', kind: 'webhook', settings: { url: receiver.url } })).json()) as Json)['data'].destination;
    for (const definitionId of [buyers, views]) assert.is((await s.manage('POST', `/spaces/spa_a/destinations/${d.id}/connections`, { definitionId })).status, 201);
    await delivery.caughtUp(d.id);
    assert.equal(deduplicated(receiver.messages).map((m) => [m['userId'], m['traits']]), [['alice', { buyers: true }]]);

    await s.runEngine([event({ type: 'identify', userId: 'alice', traits: { email: 'alice@x.com' }, timestamp: NOW - 4000 })]);
    await s.runEngine([event({ type: 'track', event: 'Product Viewed', userId: 'alice', timestamp: NOW - 3000 })]);
    await delivery.caughtUp(d.id);
    const later = deduplicated(receiver.messages).slice(1).map((m) => m['traits']);
    assert.equal(later, [
      { email: 'alice@x.com', buyers: true },
      { views: 1 },
      { email: 'alice@x.com', views: 1 },
    ]);

    await s.runEngine([event({ type: 'track', event: 'Product Viewed', userId: 'alice', timestamp: NOW - 2000 })]);
    await delivery.caughtUp(d.id);
    assert.equal(deduplicated(receiver.messages).slice(4).map((m) => m['traits']), [{ views: 2 }, { email: 'alice@x.com', views: 2 }], 'no second resend');
  }));

test('a new identifier gets the profile’s values without waiting for its next change (the identifier sweep)', () =>
  withWebhook({ identifierSweepMs: 50 }, async ({ s, receiver, delivery }) => {
    const buyers = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'b', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' } })).id;
    await s.runEngine([event({ type: 'track', event: 'Order Completed', userId: 'alice', timestamp: NOW - 5000 })]);
    const d = ((await (await s.manage('POST', '/spaces/spa_a/destinations', { name: 'crm', kind: 'webhook', settings: { url: receiver.url } })).json()) as Json)['data'].destination;
    assert.is((await s.manage('POST', `/spaces/spa_a/destinations/${d.id}/connections`, { definitionId: buyers })).status, 201);
    await delivery.caughtUp(d.id);
    assert.equal(deduplicated(receiver.messages).map((m) => [m['userId'], m['traits']]), [['alice', { buyers: true }]]);

    // an identify that changes no audience: nothing on the change log for alice
    const before = await delivery.changeLog.lastSeq();
    await s.runEngine([event({ type: 'identify', userId: 'alice', traits: { email: 'alice@x.com' }, timestamp: NOW - 4000 })]);
    assert.is(await delivery.changeLog.lastSeq(), before, 'the identify made no change');
    for (let i = 0; i < 2000 && deduplicated(receiver.messages).length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(deduplicated(receiver.messages).slice(1).map((m) => m['traits']), [{ email: 'alice@x.com', buyers: true }]);
    // the ledger now holds the email: later sweeps send nothing more
    await new Promise((r) => setTimeout(r, 300));
    assert.is(deduplicated(receiver.messages).length, 2, 'sent once');
  }));

test('a profile absorbed by a merge: its former identifiers hear its exit, then the survivor’s value', () =>
  withWebhook({}, async ({ s, receiver, delivery }) => {
    const query = "event('Order Completed').count() >= 1 AND event('Refund Issued').count() = 0";
    const buyers = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'b', definition: { query, type: 'USERS' } })).id;
    const orders = (await s.registry.create({ space: 'spa_a', kind: 'trait', key: 'orders', name: 'o', definition: { query: "event('Order Completed').count()", type: 'USERS' } })).id;
    const refunds = (await s.registry.create({ space: 'spa_a', kind: 'trait', key: 'refunds', name: 'r', definition: { query: "event('Refund Issued').count()", type: 'USERS' } })).id;
    // B (created first, so it survives) refunded; A, user-1, bought and is a member — sent to user-1
    await s.runEngine([event({ type: 'track', event: 'Refund Issued', anonymousId: 'anon-b', context: { traits: { email: 'b@x.com' } }, timestamp: NOW - 6000 })]);
    const d = ((await (await s.manage('POST', '/spaces/spa_a/destinations', { name: 'crm', kind: 'webhook', settings: { url: receiver.url } })).json()) as Json)['data'].destination;
    for (const definitionId of [buyers, orders, refunds]) assert.is((await s.manage('POST', `/spaces/spa_a/destinations/${d.id}/connections`, { definitionId, identifiers: [{ type: 'user_id', strategy: 'all' }, { type: 'email', strategy: 'all' }] })).status, 201);
    await delivery.caughtUp(d.id);
    await s.runEngine([event({ type: 'track', event: 'Order Completed', userId: 'user-1', timestamp: NOW - 5000 })]);
    await delivery.caughtUp(d.id);
    const lastOf = (who: string, key: string) => {
      let v: unknown;
      for (const m of deduplicated(receiver.messages)) if ((m['userId'] === who || m['context']?.['traits']?.['email'] === who) && m['type'] === 'identify' && key in m['traits']) v = m['traits'][key];
      return v;
    };
    assert.is(lastOf('user-1', 'buyers'), true);
    assert.is(lastOf('user-1', 'orders'), 1);
    // the merge: A's order and B's refund together — no longer a buyer; the survivor's traits move over
    await s.runEngine([event({ type: 'identify', userId: 'user-1', anonymousId: 'anon-b', timestamp: NOW - 4000 })]);
    await delivery.caughtUp(d.id);
    assert.is(lastOf('user-1', 'buyers'), false, 'user-1 hears the exit of the profile it belonged to');
    assert.is(lastOf('user-1', 'orders'), 1, 'then the survivor’s value');
    assert.is(lastOf('user-1', 'refunds'), 1);
  }));

test('a profile absorbed by a merge: its window exit, delivered after the merge, still reaches its former identifier', () =>
  withWebhook({}, async ({ s, receiver, delivery }) => {
    const recent = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'recent', name: 'r', definition: { query: "event('Product Viewed').within(2 minutes).count() >= 1", type: 'USERS' } })).id;
    // B (created first, so it survives) never viewed; A, user-1, viewed a minute ago — sent to user-1
    await s.runEngine([event({ type: 'track', event: 'Order Completed', anonymousId: 'anon-b', timestamp: NOW - 90_000 })]);
    const d = ((await (await s.manage('POST', '/spaces/spa_a/destinations', { name: 'crm', kind: 'webhook', settings: { url: receiver.url } })).json()) as Json)['data'].destination;
    assert.is((await s.manage('POST', `/spaces/spa_a/destinations/${d.id}/connections`, { definitionId: recent })).status, 201);
    await delivery.caughtUp(d.id);
    await s.runEngine([event({ type: 'track', event: 'Product Viewed', userId: 'user-1', timestamp: NOW - 60_000 })]);
    await delivery.caughtUp(d.id);
    const last = () => {
      let v: unknown;
      for (const m of deduplicated(receiver.messages)) if (m['userId'] === 'user-1' && m['type'] === 'identify') v = m['traits']['recent'];
      return v;
    };
    assert.is(last(), true);
    // three minutes on, in one checkpoint: A's window exit (a time exit, not the merge's), then the merge into B
    s.clock.now = NOW + 120_000;
    const changes = await s.runEngine([event({ type: 'identify', userId: 'user-1', anonymousId: 'anon-b', timestamp: NOW + 120_000 })]);
    assert.equal(changes.filter((c) => c.definitionId === recent).map((c) => [c.kind, c.cause?.type]), [['exit', 'time']]);
    await delivery.caughtUp(d.id);
    assert.is(last(), false, 'user-1 hears the exit of the profile it belonged to');
  }));

test('a merge gives the survivor the absorbed profile’s identifiers: its values of every definition reach them, though its ledger now lists them', () =>
  withWebhook({ identifierSweepMs: 50 }, async ({ s, receiver, delivery }) => {
    const recent = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'recent', name: 'r', definition: { query: "event('Product Viewed').within(2 minutes).count() >= 1", type: 'USERS' } })).id;
    const orders = (await s.registry.create({ space: 'spa_a', kind: 'trait', key: 'orders', name: 'o', definition: { query: "event('Order Completed').count()", type: 'USERS' } })).id;
    // B (anonymous: its orders value reaches no user id) and A, user-1, a member of `recent`
    await s.runEngine([event({ type: 'track', event: 'Order Completed', anonymousId: 'anon-b', timestamp: NOW - 90_000 })]);
    const d = ((await (await s.manage('POST', '/spaces/spa_a/destinations', { name: 'crm', kind: 'webhook', settings: { url: receiver.url } })).json()) as Json)['data'].destination;
    for (const definitionId of [recent, orders]) assert.is((await s.manage('POST', `/spaces/spa_a/destinations/${d.id}/connections`, { definitionId })).status, 201);
    await delivery.caughtUp(d.id);
    await s.runEngine([event({ type: 'track', event: 'Product Viewed', userId: 'user-1', timestamp: NOW - 60_000 })]);
    await delivery.caughtUp(d.id);
    const last = (key: string) => {
      let v: unknown;
      for (const m of deduplicated(receiver.messages)) if (m['userId'] === 'user-1' && m['type'] === 'identify' && key in m['traits']) v = m['traits'][key];
      return v;
    };
    assert.is(last('recent'), true);
    assert.is(last('orders'), undefined);
    // A's window exit and the merge into B, delivered together: B now holds user-1
    s.clock.now = NOW + 120_000;
    await s.runEngine([event({ type: 'identify', userId: 'user-1', anonymousId: 'anon-b', timestamp: NOW + 120_000 })]);
    await delivery.caughtUp(d.id);
    // (and a sweep after it, which would find nothing new: B's ledger took user-1 with A's)
    const caughtUpAt = Date.now();
    for (let i = 0; i < 500 && (delivery.store.status(d.id).identifiersCheckedAt ?? 0) < caughtUpAt; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok((delivery.store.status(d.id).identifiersCheckedAt ?? 0) >= caughtUpAt, 'a sweep ran');
    assert.is(last('recent'), false);
    assert.is(last('orders'), 1, 'user-1 gets the survivor’s orders value');
  }));

test('a chain of merges: the survivor of the first, absorbed in turn, takes back the value it sent to the first one’s identifiers', () =>
  withWebhook({}, async ({ s, receiver, delivery }) => {
    const query = "event('Order Completed').count() >= 1 AND event('Refund Issued').count() = 0";
    const buyers = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'b', definition: { query, type: 'USERS' } })).id;
    // C (first created: it survives everything) refunded; B, anonymous, bought; A (user-1) bought
    await s.runEngine([event({ type: 'track', event: 'Refund Issued', anonymousId: 'anon-c', timestamp: NOW - 9000 })]);
    await s.runEngine([event({ type: 'track', event: 'Order Completed', anonymousId: 'anon-b', timestamp: NOW - 8000 })]);
    await s.runEngine([event({ type: 'track', event: 'Order Completed', userId: 'user-1', timestamp: NOW - 7000 })]);
    const d = ((await (await s.manage('POST', '/spaces/spa_a/destinations', { name: 'crm', kind: 'webhook', settings: { url: receiver.url } })).json()) as Json)['data'].destination;
    assert.is((await s.manage('POST', `/spaces/spa_a/destinations/${d.id}/connections`, { definitionId: buyers })).status, 201);
    await delivery.caughtUp(d.id);
    const last = () => {
      let v: unknown;
      for (const m of deduplicated(receiver.messages)) if (m['userId'] === 'user-1' && m['type'] === 'identify') v = m['traits']['buyers'];
      return v;
    };
    assert.is(last(), true);
    // A into B: B stays a member (no change of its own); user-1 hears A's exit, then B's value
    await s.runEngine([event({ type: 'identify', userId: 'user-1', anonymousId: 'anon-b', timestamp: NOW - 6000 })]);
    await delivery.caughtUp(d.id);
    assert.is(last(), true);
    // B into C: the refund counts now — user-1 must hear B's exit
    await s.runEngine([event({ type: 'track', event: 'Page Viewed', userId: 'user-1', anonymousId: 'anon-c', timestamp: NOW - 5000 })]);
    await delivery.caughtUp(d.id);
    assert.is(last(), false, 'user-1 hears the exit of the profile that had taken it over');
  }));

test('a crash after a profile’s first delivery, before its ledger was committed, then a merge: its former identifier still hears the exit', async () => {
  const s = serviceApp({ identity: true, withDestinations: true });
  const receiver = await startReceiver();
  // the first delivery service dies between the receiver's acknowledgement and the commit (FLOCK_FAULT delivered)
  let crash = false;
  let first: Delivery | undefined = await deliveryOver(s, {
    probe: () => {
      if (crash) throw new Error('killed after the receiver acknowledged');
    },
  });
  let second: Delivery | undefined;
  try {
    const query = "event('Order Completed').count() >= 1 AND event('Refund Issued').count() = 0";
    const buyers = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'b', definition: { query, type: 'USERS' } })).id;
    // B (created first, so it survives) refunded
    await s.runEngine([event({ type: 'track', event: 'Refund Issued', anonymousId: 'anon-b', timestamp: NOW - 6000 })]);
    const d = ((await (await s.manage('POST', '/spaces/spa_a/destinations', { name: 'crm', kind: 'webhook', settings: { url: receiver.url } })).json()) as Json)['data'].destination;
    assert.is((await s.manage('POST', `/spaces/spa_a/destinations/${d.id}/connections`, { definitionId: buyers })).status, 201);
    await first.caughtUp(d.id);
    // A, user-1, buys: its enter reaches user-1, and the process dies before committing
    crash = true;
    await s.runEngine([event({ type: 'track', event: 'Order Completed', userId: 'user-1', timestamp: NOW - 5000 })]);
    const last = () => {
      let v: unknown;
      for (const m of deduplicated(receiver.messages)) if (m['userId'] === 'user-1' && m['type'] === 'identify') v = m['traits']['buyers'];
      return v;
    };
    for (let i = 0; i < 1000 && last() === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    assert.is(last(), true, 'the enter reached user-1');
    await first.close();
    first = undefined;
    // meanwhile the engine merges A into B (the refund counts: no longer a buyer)
    await s.runEngine([event({ type: 'identify', userId: 'user-1', anonymousId: 'anon-b', timestamp: NOW - 4000 })]);
    // the restarted delivery sends the uncommitted step again, A already merged away
    second = await deliveryOver(s);
    await second.caughtUp(d.id);
    assert.is(last(), false, 'user-1 hears the exit of the profile it belonged to');
  } finally {
    await first?.close();
    await second?.close();
    await receiver.close();
    await s.close();
  }
});

test.run();
