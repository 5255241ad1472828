/** Compatibility: the real @segment/analytics-node client, pointed at a Flock server on 127.0.0.1, delivers normalised events. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Analytics } from '@segment/analytics-node';
import { createApp } from '../../../api/app.ts';
import { startServer, type RunningServer } from '../../../api/serve.ts';
import { staticSpaceDirectory } from '../../../engine/space/space-directory.ts';
import { memoryEventLog } from '../../support/memory-event-log.ts';
import { SPACES, WRITE_KEY } from '../../support/ingest-app.ts';

const log = memoryEventLog();
let server: RunningServer;

test.before(async () => {
  server = await startServer(createApp({ eventLog: log, spaces: staticSpaceDirectory(SPACES) }), { host: '127.0.0.1', port: 0 });
});
test.after(async () => {
  await server.close(1_000);
});

test('every call type arrives in the log, normalised', async () => {
  const analytics = new Analytics({ writeKey: WRITE_KEY, host: server.url, flushAt: 3, flushInterval: 50, maxRetries: 0 });
  const failures: unknown[] = [];
  analytics.on('error', (error) => failures.push(error));
  const before = Date.now();
  analytics.identify({ userId: 'u1', traits: { email: 'u1@example.com', plan: 'pro' } });
  analytics.track({ userId: 'u1', event: 'Order Completed', properties: { total: 99.5 }, context: { ip: '203.0.113.7' } });
  analytics.page({ anonymousId: 'a1', name: 'Pricing', category: 'Marketing', properties: { path: '/pricing' } });
  analytics.screen({ userId: 'u1', name: 'Checkout' });
  analytics.group({ userId: 'u1', groupId: 'acme', traits: { employees: 50 } });
  analytics.alias({ userId: 'u1', previousId: 'a1' });
  analytics.track({ userId: 'u1', event: 'Backfilled', timestamp: new Date('2020-01-01T00:00:00.000Z'), messageId: 'import-1' });
  await analytics.closeAndFlush({ timeout: 10_000 });
  const after = Date.now();

  assert.equal(failures, []);
  const byKind = new Map(log.events.map((e) => [e.event ?? e.type, e]));
  assert.is(log.events.length, 7);
  const identify = byKind.get('identify');
  assert.equal(identify?.traits, { email: 'u1@example.com', plan: 'pro' });
  const track = byKind.get('Order Completed');
  assert.is(track?.type, 'track');
  assert.is(track?.userId, 'u1');
  assert.equal(track?.properties, { total: 99.5 });
  assert.is((track?.context as { ip?: string } | null)?.ip, '203.0.113.7');
  assert.is(((track?.context as { library?: { name?: string } } | null)?.library)?.name, '@segment/analytics-node');
  assert.match(track?.messageId ?? '', /^node-next-/);
  assert.is(track?.space, 'spa_test');
  assert.is(track?.sourceId, 'src_test');
  // the client stamps `timestamp` and the batch `sentAt`: the corrected time lies within the run.
  assert.ok((track?.timestamp ?? 0) >= before - 1_000 && (track?.timestamp ?? 0) <= after + 1_000);
  const page = byKind.get('Page Viewed');
  // analytics-node copies `category` into the properties itself; Flock adds page_name and page_category.
  assert.equal(page?.properties, { path: '/pricing', category: 'Marketing', page_name: 'Pricing', page_category: 'Marketing' });
  assert.is(page?.anonymousId, 'a1');
  assert.equal(byKind.get('Screen Viewed')?.properties, { screen_name: 'Checkout' });
  assert.is(byKind.get('group')?.groupId, 'acme');
  assert.is(byKind.get('alias')?.previousId, 'a1');
  // a back-filled timestamp survives the skew correction (to within the send delay).
  const backfilled = byKind.get('Backfilled');
  assert.is(backfilled?.messageId, 'import-1');
  assert.ok(Math.abs((backfilled?.timestamp ?? 0) - Date.UTC(2020, 0, 1)) < 5_000);
});

test('a wrong write key: the client reports the failure (401 is not retried), nothing is stored', async () => {
  const stored = log.events.length;
  const analytics = new Analytics({ writeKey: 'not-a-key', host: server.url, flushAt: 1, maxRetries: 0 });
  const failures: unknown[] = [];
  analytics.on('error', (error) => failures.push(error));
  analytics.track({ userId: 'u', event: 'E' });
  await analytics.closeAndFlush({ timeout: 5_000 });
  assert.is(failures.length, 1);
  // the client's delivery_failure carries the status: `[401] Unauthorized`.
  assert.match(String((failures[0] as { reason?: unknown }).reason), /\[401\]/);
  assert.is(log.events.length, stored);
});

test.run();
