/**
 * `npm start` end to end, on the embedded log and on JetStream: HTTP ingest → engine thread →
 * Profile API traits (audience membership, computed and custom traits), management API statuses,
 * sizes and explorer, readiness and metrics.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sendBatch } from '../support/tracking.ts';
import { natsServerAvailable, startNatsServer, type NatsServer } from '../support/nats-server.ts';
import { startFlock, writeWalkthroughDefinitions } from '../support/flock-process.ts';

type Json = Record<string, any>;
const root = mkdtempSync(join(tmpdir(), 'flock-e2e-'));
test.after(() => rmSync(root, { recursive: true, force: true }));

const access = `Basic ${Buffer.from('dev_access_token:').toString('base64')}`;
const management = 'Bearer dev_management_token';

const start = (args: string[]) => startFlock(args);

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
}

async function journey(label: string, extraArgs: string[]): Promise<void> {
  const dir = join(root, label);
  const defs = join(root, `${label}-defs.json`);
  writeWalkthroughDefinitions(defs);
  const flock = start(['--port', '0', '--data-dir', dir, '--definitions-file', defs, ...extraArgs]);
  try {
    const url = String((await flock.waitFor('flock listening'))['url']);
    const get = async (path: string, auth: string) => {
      const res = await fetch(`${url}${path}`, { headers: { authorization: auth } });
      return { status: res.status, body: (await res.json()) as Json };
    };
    // ready once the engine caught up (an empty log: at once)
    await until('readiness', async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined));

    // the file's definitions are in the registry, Live
    const listed = await until('file definitions Live', async () => {
      const { body } = await get('/spaces/spa_default/audiences', management);
      const audience = body['data'].audiences[0];
      return audience?.status === 'Live' ? audience : undefined;
    });
    assert.is(listed.key, 'shoe_viewers');
    assert.is(listed.id, 'aud_shoe_viewers');

    // an audience created over HTTP
    const created = await fetch(`${url}/spaces/spa_default/audiences`, {
      method: 'POST',
      headers: { authorization: management, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Big spenders', definition: { query: "trait('revenue_30d') > 100" } }),
    });
    assert.is(created.status, 201);
    assert.is(((await created.json()) as Json)['data'].audience.key, 'big_spenders');

    // events over the tracking API
    const now = new Date().toISOString();
    const ingest = await sendBatch(url, [
      { type: 'identify', userId: 'alice', traits: { email: 'alice@example.com', plan: 'pro' }, timestamp: now },
      { type: 'track', userId: 'alice', event: 'Product Viewed', properties: { category: 'shoes' }, timestamp: now },
      { type: 'track', userId: 'alice', event: 'Order Completed', properties: { total: 42.5 }, timestamp: now },
      { type: 'group', userId: 'alice', groupId: 'acme', traits: { name: 'Acme' }, timestamp: now },
      { type: 'track', userId: 'bob', event: 'Product Viewed', properties: { category: 'hats' }, timestamp: now },
    ]);
    assert.is(ingest.status, 200);

    // the Profile API shows the engine's results within moments
    const traits = await until('alice in the Profile API', async () => {
      const { status, body } = await get('/v1/spaces/spa_default/collections/users/profiles/user_id:alice/traits', access);
      return status === 200 && body['traits'].shoe_viewers === true && body['traits'].revenue_30d === 42.5 ? body['traits'] : undefined;
    });
    assert.equal(traits, { email: 'alice@example.com', plan: 'pro', revenue_30d: 42.5, shoe_viewers: true });
    // found by any of its identifiers, and by its segment id
    const ids = await get('/v1/spaces/spa_default/collections/users/profiles/email:alice@example.com/external_ids', access);
    assert.is(ids.status, 200);
    assert.equal(ids.body['data'].map((x: Json) => x.type).sort(), ['email', 'user_id']);
    const meta = await get('/v1/spaces/spa_default/collections/users/profiles/user_id:alice/metadata', access);
    assert.is(meta.status, 200);
    const links = await get('/v1/spaces/spa_default/collections/users/profiles/user_id:alice/links', access);
    assert.equal(links.body['data'].map((l: Json) => [l.to_collection, l.external_ids[0].id]), [['accounts', 'acme']]);
    const bob = await get('/v1/spaces/spa_default/collections/users/profiles/user_id:bob/traits?include=shoe_viewers', access);
    assert.equal(bob.body['traits'], { shoe_viewers: false });
    assert.is((await get('/v1/spaces/spa_default/collections/users/profiles/user_id:nobody/traits', access)).status, 404);

    // an audience over historical data: it backfills to Live and has alice from her past order
    const send = (method: string, path: string, body: unknown) =>
      fetch(`${url}${path}`, { method, headers: { authorization: management, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as Json }));
    const buyers = await send('POST', '/spaces/spa_default/audiences', {
      name: 'Recent buyers',
      definition: { query: "event('Order Completed').within(7 days).count() >= 1" },
      options: { includeHistoricalData: true },
    });
    assert.is(buyers.status, 201);
    const buyersId = String(buyers.body['data'].audience.id);
    const audienceOf = async (id: string) => (await get(`/spaces/spa_default/audiences/${id}`, management)).body['data'].audience;
    await until('recent_buyers Live', async () => ((await audienceOf(buyersId)).status === 'Live' ? true : undefined));
    const member = async (key: string) => (await get(`/v1/spaces/spa_default/collections/users/profiles/user_id:alice/traits?include=${key}`, access)).body['traits'][key];
    await until('alice a recent buyer', async () => ((await member('recent_buyers')) === true ? true : undefined));
    // an edit: the old version keeps answering until the new one is Live, then only the difference goes out
    const edited = await send('PATCH', `/spaces/spa_default/audiences/${buyersId}`, { definition: { query: "event('Order Completed').where(property('total') > 100).within(7 days).count() >= 1" } });
    assert.is(edited.status, 200);
    assert.is(edited.body['data'].audience.liveVersion, 1);
    const switched = await until('version 2 Live', async () => {
      const a = await audienceOf(buyersId);
      return a.liveVersion === 2 && a.status === 'Live' ? a : undefined;
    });
    assert.equal(switched.versions.map((v: Json) => v.status), ['Not Computing', 'Live']);
    await until('alice no longer a member', async () => ((await member('recent_buyers')) === false ? true : undefined));
    const buyerChanges = await until('the edit on the change log', async () => {
      const list = (await get(`/spaces/spa_default/audiences/${buyersId}/changes`, management)).body['data'].changes;
      return list.length === 2 ? list : undefined;
    });
    assert.equal(buyerChanges.map((c: Json) => [c.kind, c.version]).sort(), [['enter', 1], ['exit', 2]]);

    // management: size and members from the outputs index, recent changes from the explorer
    // (sizes are counted at most every two seconds)
    const audience = await until('the size', async () => {
      const a = (await get('/spaces/spa_default/audiences/aud_shoe_viewers', management)).body['data'].audience;
      return a.size.count === 1 ? a : undefined;
    });
    assert.equal(audience.size, { count: 1, type: 'USERS' });
    const members = (await get('/spaces/spa_default/audiences/aud_shoe_viewers/members', management)).body['data'].members;
    assert.is(members.length, 1);
    assert.match(members[0].profileId, /^use_/);
    const changes = await until('the explorer followed the change log', async () => {
      const list = (await get('/spaces/spa_default/audiences/aud_shoe_viewers/changes', management)).body['data'].changes;
      return list.length > 0 ? list : undefined;
    });
    assert.is(changes[0].kind, 'enter');
    const history = (await get('/spaces/spa_default/audiences/aud_shoe_viewers/size-history?granularity=minute', management)).body['data'];
    assert.is(history.points.at(-1).count, 1);

    // metrics carry the engine's counters
    const metrics = await until('engine stats in /metrics', async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return /^flock_engine_events_in_total [1-9]/m.test(text) ? text : undefined;
    });
    assert.match(metrics, /^flock_engine_up 1$/m);
    assert.match(metrics, /flock_http_requests_total\{method="GET",route="\/v1\/spaces\/:spaceId\/collections\/:collection\/profiles\/:identifier\/traits",status="200"\}/);
  } finally {
    flock.child.kill('SIGTERM');
    assert.is(await flock.exited, 0);
  }
}

test('embedded log: ingest → engine → Profile API, management and explorer', async () => {
  await journey('embedded', []);
});

test('JetStream: ingest → engine → Profile API, management and explorer', async () => {
  if (!natsServerAvailable('service e2e on JetStream')) return;
  let nats: NatsServer | undefined;
  try {
    nats = await startNatsServer();
    await journey('jetstream', ['--nats-url', nats.url]);
  } finally {
    await nats?.dispose();
  }
});

test.run();
