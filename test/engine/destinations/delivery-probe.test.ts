/** FLOCK_FAULT `delivered`: the delivery probe is reached after a slice of changes was acknowledged and before its cursor is committed — the point a kill must resend from. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deliveryOver } from '../../support/delivery.ts';
import { startReceiver } from '../../support/receiver.ts';
import { event, NOW, serviceApp } from '../../support/service-app.ts';

type Json = Record<string, any>;

test('the delivered probe sees the messages acknowledged and the cursor not yet moved', async () => {
  const s = serviceApp({ withDestinations: true });
  const receiver = await startReceiver();
  const seen: Array<{ received: number; cursor: number | undefined }> = [];
  let destinationId = '';
  const delivery = await deliveryOver(s, { probe: () => seen.push({ received: receiver.messages.length, cursor: s.destinations!.cursor(destinationId) }) });
  try {
    const buyers = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'b', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' } })).id;
    await s.runEngine([event({ type: 'track', event: 'Order Completed', userId: 'bob', timestamp: NOW - 6000 })]);
    const d = ((await (await s.manage('POST', '/spaces/spa_a/destinations', { name: 'crm', kind: 'webhook', settings: { url: receiver.url } })).json()) as Json)['data'].destination;
    destinationId = d.id;
    assert.is((await s.manage('POST', `/spaces/spa_a/destinations/${d.id}/connections`, { definitionId: buyers, backfill: false })).status, 201);
    await delivery.caughtUp(d.id);
    const start = s.destinations!.cursor(d.id)!;
    await s.runEngine([event({ type: 'track', event: 'Order Completed', userId: 'alice', timestamp: NOW - 5000 })]);
    await delivery.caughtUp(d.id);
    const hit = seen.find((h) => h.received > 0);
    assert.ok(hit !== undefined, 'the probe was reached after a delivery');
    assert.is(hit!.cursor, start, 'the cursor was not yet committed');
    assert.ok(s.destinations!.cursor(d.id)! > start, 'and is committed after');
  } finally {
    await delivery.close();
    await receiver.close();
    await s.close();
  }
});

test.run();
