/**
 * The `nats` kind against a private nats-server: core NATS, one message per event on the chosen
 * subject (a subscriber reconstructs the membership); JetStream, each message acknowledged by the
 * stream that captures the subject and carrying `Nats-Msg-Id` = messageId, so a redelivered
 * backfill (the same connection sent twice) is dropped by the stream.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { deliveryOver } from '../../support/delivery.ts';
import { natsServerAvailable, startNatsServer, type NatsServer } from '../../support/nats-server.ts';
import { event, NOW, serviceApp, type ServiceApp } from '../../support/service-app.ts';

type Json = Record<string, any>;

if (natsServerAvailable('the nats destination test')) {
  let nats: NatsServer;
  let s: ServiceApp;
  let nc: NatsConnection;
  let buyers = '';

  test.before(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    s = serviceApp({ withDestinations: true });
    buyers = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'buyers', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' } })).id;
    await s.runEngine(['ann', 'ben', 'cy'].map((u) => event({ type: 'track', event: 'Order Completed', userId: u, timestamp: NOW - 1000 })));
  });
  test.after(async () => {
    await nc.close();
    await s.close();
    await nats.dispose();
  });

  const manage = async (method: string, path: string, body?: unknown) => ((await (await s.manage(method, path, body)).json()) as Json)['data'];

  test('core NATS: one message per event on the subject', async () => {
    const received: Json[] = [];
    const sub = nc.subscribe('flock.audiences', { callback: (_, m) => void received.push(m.json<Json>()) });
    await nc.flush();
    const d = (await manage('POST', '/spaces/spa_a/destinations', { name: 'bus', kind: 'nats', settings: { url: nats.url, subject: 'flock.audiences' } })).destination;
    await manage('POST', `/spaces/spa_a/destinations/${d.id}/connections`, { definitionId: buyers, track: true });
    const delivery = await deliveryOver(s);
    try {
      await delivery.caughtUp(d.id);
      await s.runEngine([event({ type: 'track', event: 'Order Completed', userId: 'dee', timestamp: NOW - 500 })]);
      await delivery.caughtUp(d.id);
      await nc.flush();
      const members = new Set(received.filter((m) => m['type'] === 'identify' && m['traits']['buyers'] === true).map((m) => m['userId']));
      assert.equal([...members].sort(), ['ann', 'ben', 'cy', 'dee']);
      assert.is(received.length, 8, 'Identify and Track per member');
      assert.equal(received.filter((m) => m['type'] === 'track').map((m) => m['event']), ['Audience Entered', 'Audience Entered', 'Audience Entered', 'Audience Entered']);
    } finally {
      await delivery.close();
      sub.unsubscribe();
      await manage('DELETE', `/spaces/spa_a/destinations/${d.id}`);
    }
  });

  test('JetStream: acknowledged by the stream, deduplicated by Nats-Msg-Id', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'AUDIENCES', subjects: ['flock.js.>'], duplicate_window: 60_000_000_000 });
    const d = (await manage('POST', '/spaces/spa_a/destinations', { name: 'stream', kind: 'nats', settings: { url: nats.url, subject: 'flock.js.buyers', jetstream: true } })).destination;
    const first = (await manage('POST', `/spaces/spa_a/destinations/${d.id}/connections`, { definitionId: buyers })).connection;
    const delivery = await deliveryOver(s);
    try {
      await delivery.caughtUp(d.id);
      assert.is((await jsm.streams.info('AUDIENCES')).state.messages, 4);
      // the same backfill again (a crash before its progress was saved looks like this): same messageIds
      await s.destinations!.saveProgress(d.id, { backfills: [[first.id, { ...s.destinations!.backfill(first.id)!, after: null, done: false }]] });
      await delivery.caughtUp(d.id);
      assert.is(s.destinations!.status(d.id).delivered, 8, 'sent twice');
      assert.is((await jsm.streams.info('AUDIENCES')).state.messages, 4, 'kept once');
      const m = await jsm.streams.getMessage('AUDIENCES', { seq: 1 });
      assert.match(m!.header?.get('Nats-Msg-Id') ?? '', /^personas_/);
      assert.is(m!.json<Json>()['messageId'], m!.header?.get('Nats-Msg-Id'));
    } finally {
      await delivery.close();
    }
  });

  test.run();
}
