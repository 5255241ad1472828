/**
 * Webhook delivery end to end against a real node:http receiver that answers slowly, fails with
 * 503, 429s with Retry-After and drops connections (before and after reading): after backfill and
 * live changes (enters, exits, trait changes), the membership and trait values the receiver
 * reconstructs from the deduplicated messages equal what Flock published; every request is signed.
 * Then a receiver refusing the signature: dead letters, a pause with a reason, resume and replay.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deliveryOver, type Delivery } from '../../support/delivery.ts';
import { deduplicated, startReceiver, type Receiver } from '../../support/receiver.ts';
import { event, NOW, serviceApp, type ServiceApp } from '../../support/service-app.ts';

type Json = Record<string, any>;
const MIN = 60_000;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;

let s: ServiceApp;
let delivery: Delivery | undefined;
let receiver: Receiver | undefined;
let viewers = '';
let views = '';

test.before(() => {
  s = serviceApp({ identity: true, withDestinations: true });
});
test.after(async () => {
  await delivery?.close();
  await receiver?.close();
  await s.close();
});

/** A management API call with space A's token, its JSON answer. */
async function app(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await s.manage(method, path, body);
  return { status: res.status, body: await json(res) };
}

const userOf = (profileId: string) => s.store()!.identityProfile('spa_a', profileId)!.ids.find((i) => i[0] === 'user_id')![1];

/** The receiver's view: per user, the last value of each key in Identify traits (deduplicated by messageId, arrival order). */
function reconstructed(messages: ReadonlyArray<Json>, key: string): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const m of deduplicated(messages)) if (m['type'] === 'identify' && m['userId'] !== undefined && Object.hasOwn(m['traits'], key)) out.set(m['userId'], m['traits'][key]);
  return out;
}

test('backfill then live changes through slow answers, 503, 429 + Retry-After and dropped connections: the receiver ends with Flock’s members and values', async () => {
  const secret = 'whsec_test_0123456789';
  viewers = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'viewers', name: 'viewers', definition: { query: "event('Product Viewed').within(1 hours).count() >= 1", type: 'USERS' } })).id;
  views = (await s.registry.create({ space: 'spa_a', kind: 'trait', key: 'views', name: 'views', definition: { query: "event('Product Viewed').within(1 hours).count()", type: 'USERS' } })).id;
  const early = [];
  for (let i = 0; i < 20; i++) {
    early.push(event({ type: 'identify', userId: `u${i}`, traits: { email: `U${i}@example.com`, plan: i % 2 === 0 ? 'pro' : 'free' }, timestamp: NOW - 40 * MIN }));
    early.push(event({ type: 'track', event: 'Product Viewed', userId: `u${i}`, timestamp: NOW - 30 * MIN }));
  }
  await s.runEngine(early);

  receiver = await startReceiver({ secret });
  receiver.fault = (n) =>
    n === 4 ? { kind: 'status', status: 429, retryAfter: '1' }
    : n % 7 === 1 ? { kind: 'slow', ms: 120 }
    : n % 7 === 3 ? { kind: 'status', status: 503 }
    : n % 11 === 5 ? { kind: 'status', status: 429, retryAfter: '0' }
    : n % 7 === 5 ? { kind: 'drop-before' }
    : n % 13 === 6 ? { kind: 'drop-after' }
    : { kind: 'ok' };
  const created = await app('POST', '/spaces/spa_a/destinations', {
    name: 'Hook',
    kind: 'webhook',
    settings: { url: receiver.url },
    secret,
    limits: { eventsPerRequest: 7, concurrency: 3 },
    retry: { baseMs: 5, maxMs: 100, maxAttempts: 30 },
  });
  assert.is(created.status, 201, JSON.stringify(created.body));
  const destination = created.body['data'].destination;
  assert.is(destination.hasSecret, true);
  assert.not.ok(JSON.stringify(created.body).includes(secret), 'the secret is never echoed');
  for (const [definitionId, extra] of [[viewers, { track: true, enrichTraits: ['plan'] }], [views, {}]] as const) {
    const connected = await app('POST', `/spaces/spa_a/destinations/${destination.id}/connections`, { definitionId, ...extra });
    assert.is(connected.status, 201, JSON.stringify(connected.body));
  }
  delivery = await deliveryOver(s);
  await delivery!.caughtUp(destination.id);
  assert.is(reconstructed(receiver.messages, 'viewers').size, 20, 'the backfill sent every member');

  // live: ten new viewers, five old ones view again (views 2), then the first views leave the window
  s.clock.now = NOW + 20 * MIN;
  const later = [];
  for (let i = 20; i < 30; i++) {
    later.push(event({ type: 'identify', userId: `u${i}`, traits: { email: `u${i}@example.com` }, timestamp: s.clock.now - MIN }));
    later.push(event({ type: 'track', event: 'Product Viewed', userId: `u${i}`, timestamp: s.clock.now - MIN }));
  }
  for (let i = 0; i < 5; i++) later.push(event({ type: 'track', event: 'Product Viewed', userId: `u${i}`, timestamp: s.clock.now - MIN }));
  await s.runEngine(later);
  s.clock.now = NOW + 31 * MIN;
  const exits = await s.runEngine([]);
  assert.ok(exits.some((c) => c.kind === 'exit'), 'the window edge made exits');
  await delivery!.caughtUp(destination.id);

  const members = new Map([...s.store()!.allOutputs('spa_a', viewers)].map((o) => [userOf(o.profileId), true]));
  const got = reconstructed(receiver.messages, 'viewers');
  const gotMembers = new Map([...got].filter(([, v]) => v === true));
  assert.equal(gotMembers, members);
  assert.is(members.size, 15);
  assert.ok([...got.values()].includes(false), 'exits arrived as false');
  const values = new Map([...s.store()!.allOutputs('spa_a', views)].map((o) => [userOf(o.profileId), o.value]));
  assert.equal(reconstructed(receiver.messages, 'views'), values);

  // every accepted request was signed; duplicates (drop-after) only ever repeat a messageId with equal content
  assert.is(receiver.badSignatures, 0);
  assert.ok(receiver.requests.every((r) => r.signed));
  const byId = new Map<string, string>();
  for (const m of receiver.messages) {
    const { sentAt: _, ...rest } = m;
    const text = JSON.stringify(rest);
    assert.is(byId.get(m['messageId']) ?? text, text, 'a redelivered messageId carries the same message');
    byId.set(m['messageId'], text);
  }
  assert.ok(receiver.messages.length > byId.size, 'dropped acknowledgements caused redeliveries');
  const exited = deduplicated(receiver.messages).filter((m) => m['type'] === 'track' && m['event'] === 'Audience Exited');
  assert.ok(exited.length > 0, 'exits were tracked');
  for (const m of exited) assert.equal([m['properties']['viewers'], m['properties']['audience_key']], [false, 'viewers']);
  const tracks = deduplicated(receiver.messages).filter((m) => m['type'] === 'track');
  assert.ok(tracks.every((m) => (m['properties']['plan'] === undefined) === Number(m['userId'].slice(1)) >= 20), 'enriched with plan where the profile has one');
  // fan-out: one call per identifier (user_id and email)
  assert.ok(deduplicated(receiver.messages).some((m) => m['type'] === 'identify' && m['traits']['email'] === 'U3@example.com'), 'the email as first spelled');

  const status = await app('GET', `/spaces/spa_a/destinations/${destination.id}/status`);
  assert.is(status.status, 200);
  assert.is(status.body['data'].status.state, 'running');
  assert.is(status.body['data'].status.failed, 0);
  assert.is(status.body['data'].status.delivered, byId.size);
  assert.ok(status.body['data'].status.requests > receiver.requests.length, 'retries were counted');
  await delivery!.close();
  delivery = undefined;
});

test('a receiver refusing every batch: dead letters, a pause with its reason, then resume and replay deliver them', async () => {
  await delivery?.close(); // (the first test's, had it failed)
  const bad = await startReceiver({ secret: 'right-secret' });
  try {
      const created = await app('POST', '/spaces/spa_a/destinations', {
      name: 'Strict',
      kind: 'webhook',
      settings: { url: bad.url },
      secret: 'wrong-secret',
      limits: { eventsPerRequest: 4, concurrency: 1 },
      retry: { baseMs: 1, maxMs: 5, maxAttempts: 3, pauseAfterDeadLetters: 2 },
    });
    const id = created.body['data'].destination.id;
    assert.is((await app('POST', `/spaces/spa_a/destinations/${id}/connections`, { definitionId: viewers })).status, 201);
    delivery = await deliveryOver(s);
    let status: Json = {};
    for (let i = 0; i < 2000 && status['state'] !== 'paused'; i++) {
      await new Promise((r) => setTimeout(r, 10));
      status = (await app('GET', `/spaces/spa_a/destinations/${id}/status`)).body['data'].status;
    }
    assert.is(status['state'], 'paused');
    assert.match(status['pauseReason'], /2 batches in a row failed 1 attempt\(s\); last: HTTP 401/);
    assert.is(status['deadLetters'], 2);
    assert.is(status['failed'], 8);
    const letters = (await app('GET', `/spaces/spa_a/destinations/${id}/dead-letters?limit=1`)).body['data'];
    assert.is(letters.total, 2);
    assert.is(letters.deadLetters.length, 1);
    assert.is(letters.next, letters.deadLetters[0].id);
    assert.is(letters.deadLetters[0].messages.length, 4);
    assert.is(bad.requests.length, 0);

    // fix the secret, replay the dead letters and resume: everything arrives
    assert.is((await app('PATCH', `/spaces/spa_a/destinations/${id}`, { secret: 'right-secret' })).status, 200);
    assert.is((await app('POST', `/spaces/spa_a/destinations/${id}/dead-letters/replay`, {})).body['data'].queued, 2);
    assert.is((await app('POST', `/spaces/spa_a/destinations/${id}/resume`)).status, 200);
    await delivery!.caughtUp(id);
    const members = new Map([...s.store()!.allOutputs('spa_a', viewers)].map((o) => [userOf(o.profileId), true]));
    assert.equal(new Map([...reconstructed(bad.messages, 'viewers')].filter(([, v]) => v === true)), members);
    const after = (await app('GET', `/spaces/spa_a/destinations/${id}/status`)).body['data'].status;
    assert.is(after.state, 'running');
    assert.is(after.deadLetters, 0);
  } finally {
    await delivery?.close();
    delivery = undefined;
    await bad.close();
  }
});

test.run();
