/**
 * The `segment` kind received by a second Flock: Flock A sends its audience and computed trait to
 * Flock B's tracking API (`POST /v1/batch`, write key as Basic auth, over a real HTTP server); B's
 * engine runs over what it received, and B's Profile API shows the audience and trait as traits.
 * A wrong write key is refused by B (401) and dead-lettered.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer, type RunningServer } from '../../../api/serve.ts';
import { deliveryOver, type Delivery } from '../../support/delivery.ts';
import { memoryEventLog } from '../../support/memory-event-log.ts';
import { basic, event, NOW, SECRETS, serviceApp, type ServiceApp } from '../../support/service-app.ts';

type Json = Record<string, any>;
let a: ServiceApp;
let b: ServiceApp;
let server: RunningServer;
let delivery: Delivery | undefined;
const ingest = memoryEventLog();

test.before(async () => {
  a = serviceApp({ identity: true, withDestinations: true });
  b = serviceApp({ identity: true, eventLog: ingest });
  server = await startServer(b.app, { host: '127.0.0.1', port: 0 });
});
test.after(async () => {
  await delivery?.close();
  await server.close();
  await a.close();
  await b.close();
});

const manage = async (method: string, path: string, body?: unknown) => ((await (await a.manage(method, path, body)).json()) as Json)['data'];

test('A’s audience and trait reach B through /v1/batch; B’s Profile API shows them', async () => {
  const buyers = (await a.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'buyers', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' } })).id;
  const spend = (await a.registry.create({ space: 'spa_a', kind: 'trait', key: 'spend', name: 'spend', definition: { query: "event('Order Completed').sum(property('total'))", type: 'USERS' } })).id;
  await a.runEngine([
    event({ type: 'identify', userId: 'alice', traits: { email: 'alice@x.com' }, timestamp: NOW - 5000 }),
    event({ type: 'track', event: 'Order Completed', userId: 'alice', properties: { total: 30 }, timestamp: NOW - 4000 }),
    event({ type: 'identify', userId: 'carol', timestamp: NOW - 3000 }),
  ]);
  const destination = (await manage('POST', '/spaces/spa_a/destinations', { name: 'Flock B', kind: 'segment', settings: { url: server.url }, secret: SECRETS.a.write })).destination;
  await manage('POST', `/spaces/spa_a/destinations/${destination.id}/connections`, { definitionId: buyers });
  await manage('POST', `/spaces/spa_a/destinations/${destination.id}/connections`, { definitionId: spend, track: true });
  delivery = await deliveryOver(a);
  await delivery.caughtUp(destination.id);
  // a live change after the backfill: bob buys
  await a.runEngine([event({ type: 'track', event: 'Order Completed', userId: 'bob', properties: { total: 12.5 }, timestamp: NOW - 1000 })]);
  await delivery.caughtUp(destination.id);

  assert.ok(ingest.events.length > 0);
  assert.ok(ingest.events.every((e) => e.space === 'spa_a' && e.messageId.startsWith('personas_')), 'B keeps A’s messageIds (its dedupe key)');
  await b.runEngine(ingest.events);
  const traits = async (user: string) => {
    const res = await b.profile(`/v1/spaces/spa_a/collections/users/profiles/user_id:${user}/traits`, basic(SECRETS.a.access));
    return res.status === 200 ? ((await res.json()) as Json)['traits'] : res.status;
  };
  assert.equal(await traits('alice'), { email: 'alice@x.com', buyers: true, spend: 30 });
  assert.equal(await traits('bob'), { buyers: true, spend: 12.5 });
  assert.is(await traits('carol'), 404, 'not a member, no value: nothing was sent');
  const tracked = ingest.events.filter((e) => e.type === 'track').map((e) => e.event);
  assert.equal([...new Set(tracked)], ['Trait Computed']);
  await delivery.close();
  delivery = undefined;
});

test('a wrong write key: B answers 401, the batch is dead-lettered', async () => {
  const buyers = a.registry.byKey('spa_a', 'buyers')!.id;
  const destination = (await manage('POST', '/spaces/spa_a/destinations', { name: 'wrong key', kind: 'segment', settings: { url: server.url }, secret: 'not-a-write-key', limits: { concurrency: 1 }, retry: { pauseAfterDeadLetters: 1 } })).destination;
  await manage('POST', `/spaces/spa_a/destinations/${destination.id}/connections`, { definitionId: buyers });
  delivery = await deliveryOver(a);
  let status: Json = {};
  for (let i = 0; i < 2000 && status['state'] !== 'paused'; i++) {
    await new Promise((r) => setTimeout(r, 10));
    status = (await manage('GET', `/spaces/spa_a/destinations/${destination.id}/status`)).status;
  }
  assert.is(status['state'], 'paused');
  assert.match(status['lastError'].message, /^HTTP 401/);
  assert.is(status['deadLetters'], 1);
});

test.run();
