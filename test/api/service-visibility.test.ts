/**
 * `npm start`: what the tracking API accepted shows on every Profile API resource within the
 * checkpoint interval even when it changes no audience or trait (an identify with only traits), and
 * an idle engine keeps what it has computed up to current: `as_of` a moment ago answers, the
 * watermark lag stays small, `/readyz` shows the current position and watermark.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFlock, writeWalkthroughDefinitions, type Flock } from '../support/flock-process.ts';

const root = mkdtempSync(join(tmpdir(), 'flock-visibility-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const WRITE = `Basic ${Buffer.from('dev_write_key:').toString('base64')}`;
const ACCESS = `Basic ${Buffer.from('dev_access_token:').toString('base64')}`;
const profiles = '/v1/spaces/spa_default/collections/users/profiles';

async function send(url: string, batch: unknown[]): Promise<void> {
  const res = await fetch(`${url}/v1/batch`, { method: 'POST', headers: { authorization: WRITE, 'content-type': 'application/json' }, body: JSON.stringify({ batch }) });
  assert.is(res.status, 200, await res.text());
}

async function get(url: string, path: string, auth = ACCESS): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: auth } });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** Polls `probe` until it returns a value; fails after `timeoutMs` with the last answer. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function stop(flock: Flock): Promise<void> {
  flock.child.kill('SIGTERM');
  assert.is(await flock.exited, 0);
}

test('an identify and a group that change no audience or trait show on every Profile API resource within the checkpoint interval', async () => {
  const defs = writeWalkthroughDefinitions(join(root, 'defs.json'));
  // A long tick: nothing but the accepted events themselves may trigger the checkpoint.
  const flock = startFlock(['--port', '0', '--data-dir', join(root, 'a'), '--definitions-file', defs, '--tick', '60s', '--checkpoint-interval', '50ms']);
  try {
    const url = String((await flock.waitFor('flock listening'))['url']);
    await flock.waitFor('engine ready');
    const now = new Date().toISOString();
    await send(url, [{ type: 'identify', userId: 'alice', traits: { plan: 'pro' }, timestamp: now }]);
    await eventually('alice', async () => ((await get(url, `${profiles}/user_id:alice/traits`)).status === 200 ? true : undefined), 30_000);
    // the engine's clock is now a few ms past alice's identify: bob's calls flip nothing and move it by little
    await send(url, [
      { type: 'identify', userId: 'bob', anonymousId: 'anon-bob', traits: { plan: 'free', email: 'bob@example.com' }, timestamp: new Date().toISOString() },
      { type: 'group', userId: 'bob', groupId: 'acme', traits: { name: 'Acme' }, timestamp: new Date().toISOString() },
    ]);
    const bob = `${profiles}/user_id:bob`;
    const traits = await eventually('bob /traits', async () => {
      const r = await get(url, `${bob}/traits`);
      return r.status === 200 ? r.body : undefined;
    });
    assert.equal(traits['traits'], { plan: 'free', email: 'bob@example.com' });
    const ids = await get(url, `${bob}/external_ids`);
    assert.is(ids.status, 200);
    assert.equal(ids.body['data'].map((x: { type: string; id: string }) => `${x.type}:${x.id}`).sort(), ['anonymous_id:anon-bob', 'email:bob@example.com', 'user_id:bob']);
    const events = await get(url, `${bob}/events`);
    assert.is(events.status, 200);
    assert.equal(events.body['data'].map((e: { type: string }) => e.type).sort(), ['group', 'identify']);
    assert.is((await get(url, `${bob}/metadata`)).status, 200);
    const links = await get(url, `${bob}/links`);
    assert.is(links.status, 200);
    assert.equal(links.body['data'].map((l: { to_collection: string; external_ids: Array<{ id: string }> }) => [l.to_collection, l.external_ids.map((x) => x.id)]), [['accounts', ['acme']]]);
    // /readyz and the metrics show the position of bob's calls
    const ready = await get(url, '/readyz');
    assert.is(ready.body['details']['target'], 0);
    await eventually('the position of the last event on /readyz', async () => ((await get(url, '/readyz')).body['details']['position'] === 3 ? true : undefined), 5_000);
  } finally {
    await stop(flock);
  }
});

test('an idle engine: as_of a moment ago answers, the watermark lag stays small, /readyz shows the watermark', async () => {
  const defs = writeWalkthroughDefinitions(join(root, 'defs.json'));
  const flock = startFlock(['--port', '0', '--data-dir', join(root, 'b'), '--definitions-file', defs, '--tick', '200ms']);
  try {
    const url = String((await flock.waitFor('flock listening'))['url']);
    await flock.waitFor('engine ready');
    const sent = Date.now();
    await send(url, [{ type: 'track', userId: 'carol', event: 'Product Viewed', properties: { category: 'hats' }, timestamp: new Date(sent).toISOString() }]);
    await eventually('carol', async () => ((await get(url, `${profiles}/user_id:carol/traits`)).status === 200 ? true : undefined));
    // no more events: the engine's clock must still move on
    const later = sent + 1500;
    const asOf = await eventually('as_of 1.5 s after the last event', async () => {
      const r = await get(url, `${profiles}/user_id:carol/as_of?at=${new Date(later).toISOString()}`);
      if (r.status === 400) assert.is(r.body['error']['code'], 'instant_not_computed');
      return r.status === 200 ? r.body : undefined;
    });
    assert.equal(asOf['traits'], {});
    const ready = await eventually('the watermark on /readyz past the last event', async () => {
      const r = await get(url, '/readyz');
      return Date.parse(String(r.body['details']['watermark'])) >= later ? r.body : undefined;
    });
    assert.is(ready['details']['position'], 1);
    // seconds after the last event, the lag is what one tick and one stats report make, not the idle time
    await sleep(Math.max(0, sent + 5000 - Date.now()));
    await eventually('a watermark lag under 3 s, 5 s after the last event', async () => {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      const lag = Number(/^flock_engine_watermark_lag_seconds (\S+)$/m.exec(metrics)?.[1]);
      const events = Number(/^flock_engine_lag_events (\S+)$/m.exec(metrics)?.[1]);
      return lag < 3 && events === 0 ? true : undefined;
    });
  } finally {
    await stop(flock);
  }
});

test.run();
