/**
 * Account-level audiences (§4.4): a Group call per matching account with the key and the account's
 * traits, and with `accountUsers` an Identify per user of the account — for the backfill (users from
 * the engine's links) and for live changes (users carried by the change).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deliveryOver } from '../../support/delivery.ts';
import { deduplicated, startReceiver } from '../../support/receiver.ts';
import { event, NOW, serviceApp } from '../../support/service-app.ts';

type Json = Record<string, any>;

test('Group per account, Identify per user of the account, backfill then live', async () => {
  const s = serviceApp({ identity: true, withDestinations: true });
  const receiver = await startReceiver();
  const delivery = await deliveryOver(s);
  try {
    const id = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'buying_accounts', name: 'b', definition: { query: "ANY event('Order Completed').count() >= 1", type: 'ACCOUNTS' } })).id;
    await s.runEngine([
      event({ type: 'group', userId: 'ann', groupId: 'Acme', traits: { industry: 'tools' }, timestamp: NOW - 5000 }),
      event({ type: 'group', userId: 'cy', groupId: 'Acme', timestamp: NOW - 4500 }),
      event({ type: 'track', event: 'Order Completed', userId: 'ann', timestamp: NOW - 4000 }),
    ]);
    const d = ((await (await s.manage('POST', '/spaces/spa_a/destinations', { name: 'crm', kind: 'webhook', settings: { url: receiver.url } })).json()) as Json)['data'].destination;
    const c = await s.manage('POST', `/spaces/spa_a/destinations/${d.id}/connections`, { definitionId: id, accountUsers: true, enrichTraits: ['industry'] });
    assert.is(c.status, 201, await c.text());
    await delivery.caughtUp(d.id);
    const backfill = deduplicated(receiver.messages);
    const group = backfill.find((m) => m['type'] === 'group')!;
    assert.equal([group['groupId'], group['traits'], group['context'].personas.computation_class], ['Acme', { industry: 'tools', buying_accounts: true }, 'audience']);
    assert.ok(group['userId'] === 'ann' || group['userId'] === 'cy');
    assert.equal(backfill.filter((m) => m['type'] === 'identify').map((m) => [m['userId'], m['traits']['buying_accounts']]).sort(), [['ann', true], ['cy', true]]);

    await s.runEngine([
      event({ type: 'group', userId: 'bob', groupId: 'Initech', timestamp: NOW - 3000 }),
      event({ type: 'track', event: 'Order Completed', userId: 'bob', timestamp: NOW - 2000 }),
    ]);
    await delivery.caughtUp(d.id);
    const live = deduplicated(receiver.messages).slice(backfill.length);
    assert.equal(live.map((m) => [m['type'], m['groupId'] ?? m['userId']]), [['group', 'Initech'], ['identify', 'bob']]);
  } finally {
    await delivery.close();
    await receiver.close();
    await s.close();
  }
});

test.run();
