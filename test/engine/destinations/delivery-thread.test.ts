/** The delivery worker thread (what `npm start` runs once a destination exists): it delivers a backfill over the data dir from its own thread, and stops on request. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startDeliveryThread } from '../../../engine/service/delivery-thread.ts';
import { startReceiver } from '../../support/receiver.ts';
import { event, NOW, serviceApp } from '../../support/service-app.ts';

test('a destination created over the API is delivered by the worker thread', async () => {
  const s = serviceApp({ withDestinations: true });
  const receiver = await startReceiver();
  try {
    const buyers = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'buyers', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' } })).id;
    await s.runEngine(['a', 'b'].map((u) => event({ type: 'track', event: 'Order Completed', userId: u, timestamp: NOW - 1000 })));
    const created = (await (await s.manage('POST', '/spaces/spa_a/destinations', { name: 'h', kind: 'webhook', settings: { url: receiver.url } })).json()) as Record<string, any>;
    await s.manage('POST', `/spaces/spa_a/destinations/${created['data'].destination.id}/connections`, { definitionId: buyers });
    const thread = await startDeliveryThread({ dataDir: s.dir, registryPath: s.registry.path });
    try {
      for (let i = 0; i < 2000 && receiver.messages.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(receiver.messages.map((m) => m['userId']).sort(), ['a', 'b']);
    } finally {
      await thread.stop();
    }
  } finally {
    await receiver.close();
    await s.close();
  }
});

test.run();
