/**
 * The destinations management API with `app.request()`: create per kind with its failure paths
 * (missing or foreign settings, bad URLs, a segment destination without its write key), secrets and
 * header values never shown, update, presets, connections (unknown definition, a trait on a list,
 * twice the same definition), another space's token, delete, status and per-destination metrics.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bearer, SECRETS, serviceApp, type ServiceApp } from '../../support/service-app.ts';

type Json = Record<string, any>;
let s: ServiceApp;
let audience = '';
let trait = '';

test.before(async () => {
  s = serviceApp({ withDestinations: true });
  audience = (await s.registry.create({ space: 'spa_a', kind: 'audience', key: 'buyers', name: 'buyers', definition: { query: "event('Order Completed').count() >= 1", type: 'USERS' } })).id;
  trait = (await s.registry.create({ space: 'spa_a', kind: 'trait', key: 'orders', name: 'orders', definition: { query: "event('Order Completed').count()", type: 'USERS' } })).id;
});
test.after(() => s.close());

async function call(method: string, path: string, body?: unknown, auth?: string): Promise<{ status: number; body: Json; text: string }> {
  const res = await s.manage(method, path, body, auth);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Json, text };
}
const fields = (r: { body: Json }) => (r.body['errors'] as Json[]).map((e) => e['field']);

test('create: settings checked per kind, with the field named', async () => {
  const bad = [
    [{ name: 'x', kind: 'webhook', settings: {} }, ['settings.url']],
    [{ name: 'x', kind: 'webhook', settings: { url: 'ftp://x' } }, ['settings.url']],
    [{ name: 'x', kind: 'webhook', settings: { url: 'http://127.0.0.1:1/h', subject: 'a' } }, ['settings.subject']],
    [{ name: 'x', kind: 'nats', settings: { url: 'nats://127.0.0.1:4333' } }, ['settings.subject']],
    [{ name: 'x', kind: 'segment', settings: { url: 'http://127.0.0.1:1' } }, ['secret']],
    [{ name: 'x', kind: 'list', settings: { url: 'http://127.0.0.1:1/l' } }, ['settings.identifier']],
    [{ name: 'x', kind: 'webhook', settings: { url: 'http://127.0.0.1:1/h' }, retry: { baseMs: 500, maxMs: 100 } }, ['retry.maxMs']],
  ] as const;
  for (const [body, expected] of bad) {
    const r = await call('POST', '/spaces/spa_a/destinations', body);
    assert.is(r.status, 400, r.text);
    assert.equal(fields(r), expected, r.text);
    assert.is(r.body['errors'][0].type, 'input-validation');
  }
  const unknownKind = await call('POST', '/spaces/spa_a/destinations', { name: 'x', kind: 'email', settings: {} });
  assert.is(unknownKind.status, 400);
});

test('secrets and header values are stored, never shown; presets set the request rate; update merges settings', async () => {
  const created = await call('POST', '/spaces/spa_a/destinations', {
    name: 'Braze via webhook',
    kind: 'webhook',
    settings: { url: 'http://127.0.0.1:9/hook', headers: { 'X-Api-Key': 'header-secret-value' } },
    secret: 'signing-secret-value',
    preset: 'braze',
  });
  assert.is(created.status, 201, created.text);
  const d = created.body['data'].destination;
  assert.equal([d.kind, d.enabled, d.hasSecret, d.preset, d.limits.requestsPerSecond], ['webhook', true, true, 'braze', 100]);
  assert.equal(d.settings, { url: 'http://127.0.0.1:9/hook', headers: { 'X-Api-Key': '(hidden)' } });
  for (const r of [created, await call('GET', `/spaces/spa_a/destinations/${d.id}`), await call('GET', '/spaces/spa_a/destinations')]) {
    assert.not.ok(r.text.includes('signing-secret-value') || r.text.includes('header-secret-value'), r.text);
  }
  const updated = await call('PATCH', `/spaces/spa_a/destinations/${d.id}`, { settings: { url: 'http://127.0.0.1:10/hook' }, limits: { concurrency: 2 }, names: { entered: 'Joined' } });
  assert.is(updated.status, 200, updated.text);
  const u = updated.body['data'].destination;
  assert.equal([u.settings.url, u.settings.headers, u.limits.concurrency, u.limits.requestsPerSecond, u.names.entered, u.names.exited], ['http://127.0.0.1:10/hook', { 'X-Api-Key': '(hidden)' }, 2, 100, 'Joined', 'Audience Exited']);
  assert.equal(s.destinations!.destination('spa_a', d.id)?.settings, { kind: 'webhook', webhook: { url: 'http://127.0.0.1:10/hook', headers: { 'X-Api-Key': 'header-secret-value' } } });
  assert.is((await call('PATCH', `/spaces/spa_a/destinations/${d.id}`, { settings: { subject: 'x' } })).status, 400, 'the kind stays fixed');
  const bus = await call('POST', '/spaces/spa_a/destinations', { name: 'bus', kind: 'nats', settings: { url: 'nats://flock:pa55word@127.0.0.1:4333', subject: 'aud.>' } });
  assert.is(bus.body['data'].destination.settings.url, 'nats://flock:(hidden)@127.0.0.1:4333');
  assert.not.ok(bus.text.includes('pa55word'));
});

test('connections: definitions of the space only, once each; lists take audiences only', async () => {
  const hook = (await call('POST', '/spaces/spa_a/destinations', { name: 'h', kind: 'webhook', settings: { url: 'http://127.0.0.1:9/h' } })).body['data'].destination.id;
  const list = (await call('POST', '/spaces/spa_a/destinations', { name: 'l', kind: 'list', settings: { url: 'http://127.0.0.1:9/l', identifier: 'email', hashed: true } })).body['data'].destination.id;
  const c = await call('POST', `/spaces/spa_a/destinations/${hook}/connections`, { definitionId: audience, track: true, identifiers: [{ type: 'email', strategy: 'last' }], enrichTraits: ['plan'] });
  assert.is(c.status, 201, c.text);
  const connection = c.body['data'].connection;
  assert.equal([connection.identify, connection.track, connection.identifiers, connection.enrichTraits, connection.backfill], [true, true, [{ type: 'email', strategy: 'last' }], ['plan'], true]);
  assert.is((await call('POST', `/spaces/spa_a/destinations/${hook}/connections`, { definitionId: audience })).status, 409);
  assert.is((await call('POST', `/spaces/spa_a/destinations/${hook}/connections`, { definitionId: 'aud_nope' })).status, 404);
  assert.is((await call('POST', `/spaces/spa_a/destinations/${hook}/connections`, { definitionId: trait, identify: false })).status, 400, 'no call chosen');
  const traitOnList = await call('POST', `/spaces/spa_a/destinations/${list}/connections`, { definitionId: trait });
  assert.is(traitOnList.status, 400);
  assert.equal(fields(traitOnList), ['definitionId']);
  assert.is((await call('POST', `/spaces/spa_a/destinations/${list}/connections`, { definitionId: audience })).status, 201);
  assert.is((await call('GET', `/spaces/spa_a/destinations/${hook}/connections`)).body['data'].connections.length, 1);
  assert.is((await call('GET', `/spaces/spa_a/destinations/${hook}/connections/${connection.id}`)).status, 200);
  // another space's token sees nothing; space B cannot reach A's destination through its own path
  assert.is((await call('GET', `/spaces/spa_a/destinations/${hook}`, undefined, bearer(SECRETS.b.management))).status, 401);
  assert.is((await call('GET', `/spaces/spa_b/destinations/${hook}`, undefined, bearer(SECRETS.b.management))).status, 404);
  assert.is((await call('DELETE', `/spaces/spa_a/destinations/${hook}/connections/${connection.id}`)).status, 200);
  assert.is((await call('DELETE', `/spaces/spa_a/destinations/${hook}/connections/${connection.id}`)).status, 404);
  const status = await call('GET', `/spaces/spa_a/destinations/${list}/status`);
  assert.is(status.status, 200);
  assert.equal([status.body['data'].status.state, status.body['data'].status.delivered, status.body['data'].status.position], ['backfilling', 0, null]);
  assert.is((await call('DELETE', `/spaces/spa_a/destinations/${list}`)).status, 200);
  assert.is((await call('GET', `/spaces/spa_a/destinations/${list}`)).status, 404);
  assert.is((await call('POST', `/spaces/spa_a/destinations/${hook}/dead-letters/replay`, { ids: [99] })).status, 404);
});

test('/metrics: one series per destination', async () => {
  const metrics = await (await s.app.request('/metrics')).text();
  assert.match(metrics, /flock_destination_delivered_total\{space="spa_a",destination="dst_[A-Za-z0-9]+",kind="webhook"\} 0/);
  assert.match(metrics, /flock_destination_paused\{space="spa_a",destination="dst_[A-Za-z0-9]+",kind="webhook"\} 0/);
  const openapi = await (await s.app.request('/openapi.json')).json() as Json;
  assert.ok(openapi['paths']['/spaces/{spaceId}/destinations/{id}/dead-letters/replay'] !== undefined);
});

test.run();
