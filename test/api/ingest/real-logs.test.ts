/** The ingest API over the real event logs: the embedded LMDB log in a temp dir and JetStream on a private nats-server. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEventLog } from '../../../engine/log/open-event-log.ts';
import type { EventLog } from '../../../engine/log/event-log.ts';
import type { FlockEvent } from '../../../engine/event/model.ts';
import { ingestApp, NOW } from '../../support/ingest-app.ts';
import { natsServerAvailable, startNatsServer, type NatsServer } from '../../support/nats-server.ts';

const root = mkdtempSync(join(tmpdir(), 'flock-ingest-'));
const nats: NatsServer | undefined = natsServerAvailable('ingest over JetStream') ? await startNatsServer() : undefined;

/** events appended after position `from` (JetStream suites share one stream, so each test reads only its own). */
async function readFrom(log: EventLog, from: number): Promise<FlockEvent[]> {
  return (await log.read(from + 1, 10_000)).map((entry) => entry.event);
}

/** The same scenarios against each log: what is answered success can be read back, normalised. */
function suite(name: string, open: (dir: string) => Promise<EventLog>): void {
  let dirs = 0;
  const fresh = () => open(join(root, `${name}-${++dirs}`));

  test(`${name}: single calls, a batch with a rejection and a gzip batch are read back normalised`, async () => {
    const eventLog = await fresh();
    try {
      const { post } = ingestApp({ eventLog });
      const start = await eventLog.lastSeq();
      assert.is((await post('/v1/t', { userId: 'u1', event: 'Order Completed', messageId: 'm1', properties: { total: 5, items: [{ sku: 'a' }] }, context: { ip: '1.2.3.4' } })).status, 200);
      assert.is((await post('/v1/p', { anonymousId: 'a1', name: 'Home', messageId: 'm2' })).status, 200);
      const batch = await post('/v1/batch', {
        context: { library: { name: 'test' } },
        batch: [
          { type: 'identify', userId: 'u1', traits: { email: 'u1@example.com' }, messageId: 'm3' },
          { type: 'track', userId: 'u1', messageId: 'bad' },
          { type: 'group', userId: 'u1', groupId: 'acme', messageId: 'm4' },
        ],
      });
      assert.equal(await batch.json(), { success: true, rejected: [{ index: 1, code: 'missing_event', message: 'event: track calls need an "event" name' }] });
      assert.is((await post('/v1/b', { batch: [{ type: 'alias', userId: 'u1', previousId: 'a1', messageId: 'm5' }] }, { gzip: true, headers: { 'content-type': 'text/plain' } })).status, 200);

      const events = await readFrom(eventLog, start);
      assert.equal(events.map((e) => e.messageId).sort(), ['m1', 'm2', 'm3', 'm4', 'm5']);
      const track = events.find((e) => e.messageId === 'm1');
      assert.equal(track, {
        space: 'spa_test',
        type: 'track',
        event: 'Order Completed',
        messageId: 'm1',
        userId: 'u1',
        anonymousId: null,
        groupId: null,
        previousId: null,
        traits: null,
        properties: { total: 5, items: [{ sku: 'a' }] },
        context: { ip: '1.2.3.4' },
        integrations: null,
        timestamp: NOW,
        receivedAt: NOW,
        sourceId: 'src_test',
      });
      assert.equal(events.find((e) => e.messageId === 'm2')?.properties, { page_name: 'Home' });
      assert.equal(events.find((e) => e.messageId === 'm3')?.context, { library: { name: 'test' } });
      assert.is(events.find((e) => e.messageId === 'm4')?.groupId, 'acme');
      assert.is(events.find((e) => e.messageId === 'm5')?.previousId, 'a1');
    } finally {
      await eventLog.close();
    }
  });

  test(`${name}: a retried request is stored once`, async () => {
    const eventLog = await fresh();
    try {
      const { post } = ingestApp({ eventLog });
      const start = await eventLog.lastSeq();
      const body = { batch: [{ type: 'track', userId: 'u', event: 'E', messageId: 'retry-1' }, { type: 'track', userId: 'v', event: 'E', messageId: 'retry-2' }] };
      assert.is((await post('/v1/b', body)).status, 200);
      assert.is((await post('/v1/b', body)).status, 200);
      assert.equal((await readFrom(eventLog, start)).map((e) => e.messageId).sort(), ['retry-1', 'retry-2']);
    } finally {
      await eventLog.close();
    }
  });

  test(`${name}: a closed log answers 503 log_unavailable, never success`, async () => {
    const eventLog = await fresh();
    const { post, logs } = ingestApp({ eventLog });
    await eventLog.close();
    const res = await post('/v1/t', { userId: 'u', event: 'E' });
    assert.is(res.status, 503);
    assert.is(((await res.json()) as { error: { code: string } }).error.code, 'log_unavailable');
    assert.is(logs[0]?.level, 'error');
  });
}

suite('embedded', (dir) => openEventLog({ dataDir: dir }));

if (nats !== undefined) {
  const server = nats;
  suite('jetstream', (dir) => openEventLog({ dataDir: dir, natsUrl: server.url, timeoutMs: 2_000 }));

  test('jetstream: a dead server answers 503 within the timeout, and ingest recovers when it is back', async () => {
    const eventLog = await openEventLog({ dataDir: join(root, 'js-dead'), natsUrl: server.url, timeoutMs: 500 });
    try {
      const { post } = ingestApp({ eventLog });
      const start = await eventLog.lastSeq();
      assert.is((await post('/v1/t', { userId: 'u', event: 'Before', messageId: 'before' })).status, 200);
      await server.kill();
      const started = Date.now();
      const res = await post('/v1/t', { userId: 'u', event: 'During', messageId: 'during' });
      assert.is(res.status, 503);
      assert.ok(Date.now() - started < 5_000);
      await server.restart();
      // the client retries until the reconnected log takes the event.
      let status = 0;
      for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
        status = (await post('/v1/t', { userId: 'u', event: 'During', messageId: 'during' })).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.is(status, 200);
      const ids = (await readFrom(eventLog, start)).map((e) => e.messageId);
      assert.ok(ids.includes('before') && ids.includes('during'));
    } finally {
      await eventLog.close();
    }
  });
}

test.after(async () => {
  await nats?.dispose();
  rmSync(root, { recursive: true, force: true });
});

test.run();
