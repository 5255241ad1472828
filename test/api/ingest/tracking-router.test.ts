/** Tests for the tracking routes: every path, long and short, answers, normalisation through HTTP and Request-Id. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ingestApp, NOW } from '../../support/ingest-app.ts';
import { TRACKING_PATHS } from '../../../api/ingest/tracking-router.ts';

const CALLS = {
  track: { userId: 'u1', event: 'Signed Up', properties: { plan: 'pro' } },
  identify: { userId: 'u1', traits: { email: 'a@b.c' } },
  page: { anonymousId: 'a1', name: 'Home', category: 'Marketing', properties: { path: '/' } },
  screen: { userId: 'u1', name: 'Settings' },
  group: { userId: 'u1', groupId: 'acme', traits: { plan: 'enterprise' } },
  alias: { userId: 'u1', previousId: 'a1' },
} as const;

test('every single-call path, long and short, stores one event of its type', async () => {
  for (const [path, kind] of Object.entries(TRACKING_PATHS)) {
    if (kind === 'batch') continue;
    const { post, log } = ingestApp();
    const res = await post(`/v1/${path}`, { ...CALLS[kind], messageId: `m-${path}` });
    assert.is(res.status, 200, path);
    assert.equal(await res.json(), { success: true });
    assert.is(log.events.length, 1, path);
    assert.is(log.events[0]?.type, kind, path);
    assert.is(log.events[0]?.messageId, `m-${path}`);
    assert.is(log.events[0]?.space, 'spa_test');
    assert.is(log.events[0]?.sourceId, 'src_test');
    assert.is(log.events[0]?.receivedAt, NOW);
  }
});

test('both batch paths store every item in order', async () => {
  for (const path of ['/v1/batch', '/v1/b']) {
    const { post, log } = ingestApp();
    const batch = Object.entries(CALLS).map(([type, call], i) => ({ type, ...call, messageId: `m${i}` }));
    const res = await post(path, { batch });
    assert.is(res.status, 200);
    assert.equal(await res.json(), { success: true });
    assert.equal(log.events.map((e) => [e.type, e.messageId]), batch.map((b) => [b.type, b.messageId]));
  }
});

test('page and screen arrive normalised', async () => {
  const { post, log } = ingestApp();
  await post('/v1/p', CALLS.page);
  await post('/v1/s', CALLS.screen);
  assert.is(log.events[0]?.event, 'Page Viewed');
  assert.equal(log.events[0]?.properties, { path: '/', page_name: 'Home', page_category: 'Marketing' });
  assert.is(log.events[1]?.event, 'Screen Viewed');
  assert.equal(log.events[1]?.properties, { screen_name: 'Settings' });
});

test('the URL decides the type of a single call', async () => {
  const { post, log } = ingestApp();
  const res = await post('/v1/identify', { type: 'track', event: 'X', userId: 'u' });
  assert.is(res.status, 200);
  assert.is(log.events[0]?.type, 'identify');
});

test('an invalid single call is 400 with its code, and nothing is stored', async () => {
  const { post, log } = ingestApp();
  const cases: Array<[string, unknown, string]> = [
    ['/v1/track', { event: 'E' }, 'no_user_anon_id'],
    ['/v1/t', { userId: 'u' }, 'missing_event'],
    ['/v1/g', { userId: 'u' }, 'missing_group_id'],
    ['/v1/a', { userId: 'u' }, 'missing_previous_id'],
    ['/v1/i', { userId: 'u', timestamp: 'soon' }, 'invalid_timestamp'],
    ['/v1/i', { userId: 'u', messageId: 'x'.repeat(100) }, 'invalid_message_id'],
    ['/v1/i', { userId: 'u', traits: 'x' }, 'invalid_field'],
    ['/v1/g', { userId: 'u', groupId: 'g'.repeat(501) }, 'group_id_too_long'],
  ];
  for (const [path, body, code] of cases) {
    const res = await post(path, body);
    assert.is(res.status, 400, `${path} ${code}`);
    const json = (await res.json()) as { error: { code: string; message: string } };
    assert.is(json.error.code, code);
    assert.type(json.error.message, 'string');
  }
  assert.is(log.events.length, 0);
  assert.is(log.appends, 0);
});

test('timestamps are corrected with sentAt through HTTP', async () => {
  const { post, log } = ingestApp();
  // the client clock is a day fast; the event was made 5 s before sending.
  await post('/v1/t', { userId: 'u', event: 'E', timestamp: '2024-05-02T11:59:55.000Z', sentAt: '2024-05-02T12:00:00.000Z' });
  assert.is(log.events[0]?.timestamp, NOW - 5_000);
});

test('every response carries a Request-Id; a valid incoming one is kept', async () => {
  const { post, app } = ingestApp();
  const ok = await post('/v1/t', { userId: 'u', event: 'E' });
  assert.match(ok.headers.get('request-id') ?? '', /^[0-9a-f-]{36}$/);
  const bad = await post('/v1/t', '{', {});
  assert.is(bad.status, 400);
  assert.ok(bad.headers.get('request-id'));
  const unauthorized = await post('/v1/t', {}, { auth: false });
  assert.ok(unauthorized.headers.get('request-id'));
  const missing = await app.request('/v1/nothing-here');
  assert.is(missing.status, 404);
  assert.equal(await missing.json(), { error: { code: 'not_found', message: 'no route for GET /v1/nothing-here' } });
  assert.ok(missing.headers.get('request-id'));
  const traced = await post('/v1/t', { userId: 'u', event: 'E' }, { headers: { 'request-id': 'trace-123' } });
  assert.is(traced.headers.get('request-id'), 'trace-123');
  const hostile = await post('/v1/t', { userId: 'u', event: 'E' }, { headers: { 'request-id': 'a b<script>' } });
  assert.is.not(hostile.headers.get('request-id'), 'a b<script>');
});

test('GET on a tracking path is 404 with the error envelope', async () => {
  const { app } = ingestApp();
  const res = await app.request('/v1/track');
  assert.is(res.status, 404);
  assert.is(((await res.json()) as { error: { code: string } }).error.code, 'not_found');
});

test('CORS: simple text/plain posts get Access-Control-Allow-Origin; preflight is answered', async () => {
  const { post, app } = ingestApp();
  const res = await post('/v1/t', { userId: 'u', event: 'E' }, { headers: { 'content-type': 'text/plain', origin: 'https://shop.example' } });
  assert.is(res.headers.get('access-control-allow-origin'), '*');
  assert.match(res.headers.get('access-control-expose-headers') ?? '', /X-RateLimit-Reset/);
  const preflight = await app.request('/v1/b', {
    method: 'OPTIONS',
    headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
  });
  assert.is(preflight.status, 204);
  assert.is(preflight.headers.get('access-control-allow-origin'), '*');
  assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
  // errors get CORS headers too, or the browser cannot read them.
  const unauthorized = await post('/v1/t', {}, { auth: false, headers: { origin: 'https://shop.example' } });
  assert.is(unauthorized.headers.get('access-control-allow-origin'), '*');
});

test.run();
