/** Tests for the per-space token bucket and the 429 answer with Retry-After and X-RateLimit-Reset. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RateLimiter, take } from '../../../api/ingest/rate-limiter.ts';
import { ingestApp, NOW, OTHER_WRITE_KEY, basic } from '../../support/ingest-app.ts';

test('take: spends tokens, refills at the rate, caps at the burst', () => {
  const config = { eventsPerSecond: 10, burst: 20 };
  const bucket = { tokens: 20, updatedAt: 0 };
  assert.equal(take(bucket, 20, 0, config), { ok: true });
  assert.equal(take(bucket, 1, 0, config), { ok: false, retryAfterMs: 100 });
  assert.equal(take(bucket, 5, 0, config), { ok: false, retryAfterMs: 500 });
  assert.equal(take(bucket, 5, 500, config), { ok: true });
  // a long pause refills only up to the burst.
  take(bucket, 0, 1_000_000, config);
  assert.is(bucket.tokens, 20);
});

test('take: a request larger than the burst passes on a full bucket and leaves a debt', () => {
  const config = { eventsPerSecond: 100, burst: 50 };
  const bucket = { tokens: 50, updatedAt: 0 };
  assert.equal(take(bucket, 500, 0, config), { ok: true });
  assert.is(bucket.tokens, -450);
  // to admit 50 again the bucket must climb from −450 to 50: 5 s.
  assert.equal(take(bucket, 500, 0, config), { ok: false, retryAfterMs: 5_000 });
  assert.equal(take(bucket, 500, 5_000, config), { ok: true });
});

test('RateLimiter: one bucket per space; 0 events/s means no limit', () => {
  const limiter = new RateLimiter({ eventsPerSecond: 1, burst: 1 });
  assert.ok(limiter.admit('a', 1, 0).ok);
  assert.not.ok(limiter.admit('a', 1, 0).ok);
  assert.ok(limiter.admit('b', 1, 0).ok);
  const off = new RateLimiter({ eventsPerSecond: 0, burst: 1 });
  for (let i = 0; i < 1000; i++) assert.ok(off.admit('a', 2500, 0).ok);
});

test('over the limit: 429 rate_limited with Retry-After and X-RateLimit-Reset in seconds; nothing stored', async () => {
  const { post, log, clock } = ingestApp({ rateLimit: { eventsPerSecond: 2, burst: 4 } });
  const batch = (n: number) => ({ batch: Array.from({ length: n }, () => ({ type: 'track', userId: 'u', event: 'E' })) });
  assert.is((await post('/v1/b', batch(4))).status, 200);
  const limited = await post('/v1/b', batch(3));
  assert.is(limited.status, 429);
  assert.equal(await limited.json(), { error: { code: 'rate_limited', message: 'space spa_test is over its ingest rate limit' } });
  assert.is(limited.headers.get('retry-after'), '2');
  assert.is(limited.headers.get('x-ratelimit-reset'), '2');
  assert.ok(limited.headers.get('request-id'));
  assert.is(limited.headers.get('access-control-allow-origin'), '*');
  assert.is(log.events.length, 4);
  // another space has its own bucket.
  assert.is((await post('/v1/t', { userId: 'u', event: 'E' }, { auth: basic(OTHER_WRITE_KEY) })).status, 200);
  // waiting as told is enough.
  clock.now = NOW + 2_000;
  assert.is((await post('/v1/b', batch(3))).status, 200);
  assert.is(log.events.length, 4 + 1 + 3);
});

test('Retry-After is at least 1 second', async () => {
  const { post } = ingestApp({ rateLimit: { eventsPerSecond: 1000, burst: 1 } });
  await post('/v1/t', { userId: 'u', event: 'E' });
  const limited = await post('/v1/t', { userId: 'u', event: 'E' });
  assert.is(limited.status, 429);
  assert.is(limited.headers.get('retry-after'), '1');
});

test.run();
