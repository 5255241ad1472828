/**
 * The `list` kind against a real receiver: the first sync posts the full list of the members'
 * emails, SHA-256-hashed after lower-casing and trimming; a later sync posts exactly the difference
 * between the two memberships (added, removed), in requests of at most `valuesPerRequest` values,
 * each signed. Lists take audiences only.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { deliveryOver, type Delivery } from '../../support/delivery.ts';
import { startReceiver, type Receiver } from '../../support/receiver.ts';
import { event, NOW, serviceApp, type ServiceApp } from '../../support/service-app.ts';

type Json = Record<string, any>;
const MIN = 60_000;
const sha = (email: string) => createHash('sha256').update(email.trim().toLowerCase()).digest('hex');
let s: ServiceApp;
let receiver: Receiver;
let delivery: Delivery | undefined;

test.before(async () => {
  s = serviceApp({ identity: true, withDestinations: true });
  receiver = await startReceiver({ secret: 'list-secret' });
});
test.after(async () => {
  await delivery?.close();
  await receiver.close();
  await s.close();
});

const manage = async (method: string, path: string, body?: unknown) => ((await (await s.manage(method, path, body)).json()) as Json)['data'];
/** The requests after the first `from`, their added and removed values. */
const sync = (from: number) => {
  const bodies = receiver.requests.slice(from).map((r) => JSON.parse(r.body) as Json);
  return { bodies, added: bodies.flatMap((b) => b['added']).sort(), removed: bodies.flatMap((b) => b['removed']).sort() };
};
/** The members' emails, hashed (members without one are on no list). */
const members = (audience: string) =>
  new Set([...s.store()!.allOutputs('spa_a', audience)].flatMap((o) => s.store()!.identityProfile('spa_a', o.profileId)!.ids.filter((i) => i[0] === 'email').map((i) => sha(i[1]))));

test('first sync: the full hashed list; the next: the difference of the memberships', async () => {
  const recent = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'recent_buyers', name: 'recent', definition: { query: "event('Order Completed').within(1 hours).count() >= 1", type: 'USERS' } })).id;
  const first = [];
  for (let i = 0; i < 5; i++) {
    first.push(event({ type: 'identify', userId: `u${i}`, traits: { email: `  User${i}@Example.com ` }, timestamp: NOW - 50 * MIN }));
    first.push(event({ type: 'track', event: 'Order Completed', userId: `u${i}`, timestamp: NOW - (50 - i * 5) * MIN }));
  }
  first.push(event({ type: 'identify', userId: 'nomail', timestamp: NOW - 50 * MIN }));
  first.push(event({ type: 'track', event: 'Order Completed', userId: 'nomail', timestamp: NOW - 50 * MIN }));
  await s.runEngine(first);
  const d = (await manage('POST', '/spaces/spa_a/destinations', { name: 'ads', kind: 'list', settings: { url: receiver.url, identifier: 'email', hashed: true, periodSeconds: 1, valuesPerRequest: 2 }, secret: 'list-secret' })).destination;
  await manage('POST', `/spaces/spa_a/destinations/${d.id}/connections`, { definitionId: recent });
  const before = members(recent);
  delivery = await deliveryOver(s);
  for (let i = 0; i < 2000 && s.destinations!.status(d.id).lastSyncAt === null; i++) await new Promise((r) => setTimeout(r, 10));
  const initial = sync(0);
  assert.equal(initial.added, [...before].sort());
  assert.is(initial.added.length, 5, 'the profile without an email is not on the list');
  assert.equal(initial.removed, []);
  assert.is(initial.bodies.length, 3, '5 values, 2 per request');
  assert.ok(initial.bodies.every((b) => b['full'] === true && b['audience'] === 'recent_buyers' && b['identifier'] === 'email' && b['hashed'] === true));
  assert.ok(receiver.requests.every((r) => r.signed));
  assert.is(initial.added[0]!.length, 64);

  // u0 and u1 leave the window, two new buyers come
  s.clock.now = NOW + 16 * MIN;
  await s.runEngine([
    event({ type: 'identify', userId: 'n1', traits: { email: 'new1@example.com' }, timestamp: s.clock.now - MIN }),
    event({ type: 'track', event: 'Order Completed', userId: 'n1', timestamp: s.clock.now - MIN }),
    event({ type: 'identify', userId: 'n2', traits: { email: 'NEW2@example.com' }, timestamp: s.clock.now - MIN }),
    event({ type: 'track', event: 'Order Completed', userId: 'n2', timestamp: s.clock.now - MIN }),
  ]);
  const after = members(recent);
  const seen = receiver.requests.length;
  const synced = s.destinations!.status(d.id).lastSyncAt!;
  for (let i = 0; i < 2000 && (s.destinations!.status(d.id).lastSyncAt ?? 0) <= synced; i++) await new Promise((r) => setTimeout(r, 10));
  const next = sync(seen);
  assert.equal(next.added, [...after].filter((v) => !before.has(v)).sort());
  assert.equal(next.removed, [...before].filter((v) => !after.has(v)).sort());
  assert.equal(next.added, [sha('new1@example.com'), sha('new2@example.com')].sort());
  assert.equal(next.removed, [sha('user0@example.com'), sha('user1@example.com')].sort());
  assert.ok(next.bodies.every((b) => b['full'] === false));
  assert.equal([...s.destinations!.listed(s.destinations!.connections(d.id)[0]!.id)].sort(), [...after].sort(), 'the stored list is what the receiver holds');
});

test('a dead-lettered list request: its values stay off the stored list; a replay syncs them again', async () => {
  const failing = await startReceiver();
  failing.fault = () => ({ kind: 'status', status: 500 });
  try {
    const recent = s.registry.byKey('spa_a', 'recent_buyers')!.id;
    const d = (await manage('POST', '/spaces/spa_a/destinations', { name: 'ads2', kind: 'list', settings: { url: failing.url, identifier: 'email', hashed: true, valuesPerRequest: 3 }, retry: { maxAttempts: 1, pauseAfterDeadLetters: 100 } })).destination;
    await manage('POST', `/spaces/spa_a/destinations/${d.id}/connections`, { definitionId: recent });
    // (waits by condition, not time: under a loaded machine a sync can take seconds)
    const deadLetters = () => manage('GET', `/spaces/spa_a/destinations/${d.id}/dead-letters`);
    for (let i = 0; i < 6000 && (s.destinations!.status(d.id).lastSyncAt === null || (await deadLetters()).total < 2); i++) await new Promise((r) => setTimeout(r, 10));
    const connection = s.destinations!.connections(d.id)[0]!.id;
    assert.equal([...s.destinations!.listed(connection)], [], 'nothing acknowledged, nothing stored');
    const letters = await deadLetters();
    assert.is(letters.total, 2, '5 values, 3 per request');
    assert.equal(letters.deadLetters[0].messages[0].added.length, 3);
    failing.fault = () => ({ kind: 'ok' });
    const synced = s.destinations!.status(d.id).lastSyncAt!;
    assert.equal((await manage('POST', `/spaces/spa_a/destinations/${d.id}/dead-letters/replay`, {})).queued, 2);
    const all = [...members(recent)].sort();
    const listedNow = () => [...s.destinations!.listed(connection)].sort();
    for (let i = 0; i < 6000 && ((s.destinations!.status(d.id).lastSyncAt ?? 0) <= synced || listedNow().join() !== all.join()); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal([...s.destinations!.listed(connection)].sort(), [...members(recent)].sort());
    const bodies = failing.requests.map((r) => JSON.parse(r.body) as Json);
    assert.equal(bodies.flatMap((b) => b['added']).sort(), [...members(recent)].sort());
  } finally {
    await failing.close();
  }
});

test.run();
