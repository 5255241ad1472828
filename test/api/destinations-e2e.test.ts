/**
 * `npm start` with a destination: events over the tracking API → engine thread → change log →
 * the delivery thread (started once the destination exists) → a signed webhook batch at a real
 * receiver; status and metrics over HTTP; a clean stop.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sendBatch } from '../support/tracking.ts';
import { startFlock, writeWalkthroughDefinitions } from '../support/flock-process.ts';
import { deduplicated, startReceiver } from '../support/receiver.ts';

type Json = Record<string, any>;
const management = { authorization: 'Bearer dev_management_token', 'content-type': 'application/json' };

test('a webhook destination receives the walkthrough audience', async () => {
  const root = mkdtempSync(join(tmpdir(), 'flock-dest-e2e-'));
  const receiver = await startReceiver({ secret: 'whsec_e2e' });
  const flock = startFlock(['--port', '0', '--data-dir', join(root, 'data'), '--definitions-file', writeWalkthroughDefinitions(join(root, 'defs.json'))]);
  try {
    const url = String((await flock.waitFor('flock listening'))['url']);
    const created = await fetch(`${url}/spaces/spa_default/destinations`, { method: 'POST', headers: management, body: JSON.stringify({ name: 'CRM', kind: 'webhook', settings: { url: receiver.url }, secret: 'whsec_e2e' }) });
    assert.is(created.status, 201);
    const id = ((await created.json()) as Json)['data'].destination.id;
    const connected = await fetch(`${url}/spaces/spa_default/destinations/${id}/connections`, { method: 'POST', headers: management, body: JSON.stringify({ definitionId: 'aud_shoe_viewers', track: true }) });
    assert.is(connected.status, 201);
    await flock.waitFor('delivery started');
    const now = new Date().toISOString();
    const ingest = await sendBatch(url, [
      { type: 'identify', userId: 'alice', traits: { email: 'alice@example.com' }, timestamp: now },
      { type: 'track', userId: 'alice', event: 'Product Viewed', properties: { category: 'shoes' }, timestamp: now },
    ]);
    assert.is(ingest.status, 200);
    for (let i = 0; i < 1000 && deduplicated(receiver.messages).length < 4; i++) await new Promise((r) => setTimeout(r, 20));
    const messages = deduplicated(receiver.messages);
    assert.equal(messages.map((m) => [m['type'], m['userId'], m['traits']?.['email'] ?? m['context']['traits']?.email ?? null]).sort(), [
      ['identify', 'alice', null],
      ['identify', 'alice', 'alice@example.com'],
      ['track', 'alice', null],
      ['track', 'alice', 'alice@example.com'],
    ]);
    assert.ok(receiver.requests.every((r) => r.signed));
    // (the status is written once the batch is acknowledged, a moment after the receiver has it; at
    // least once: a loaded machine can fail a step and deliver its batch again — duplicates only)
    let status: Json = {};
    for (let i = 0; i < 1000 && !(status['delivered'] >= 4); i++) {
      status = ((await (await fetch(`${url}/spaces/spa_default/destinations/${id}/status`, { headers: management })).json()) as Json)['data'].status;
      if (!(status['delivered'] >= 4)) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal([status.state, status.failed], ['running', 0]);
    assert.ok(status.delivered >= 4 && status.delivered % 4 === 0, `delivered ${status.delivered}: the batch, once or again`);
    assert.equal(deduplicated(receiver.messages).length, 4, 'no message but those four');
    assert.match(await (await fetch(`${url}/metrics`)).text(), new RegExp(`flock_destination_delivered_total\\{space="spa_default",destination="${id}",kind="webhook"\\} ${status.delivered}`));
    flock.signalGroup('SIGTERM');
    assert.is(await flock.exited, 0);
  } finally {
    if (flock.signal() === null) flock.kill9();
    await receiver.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
