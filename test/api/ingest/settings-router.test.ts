/** Tests for GET /v1/projects/:writeKey/settings, the CDN settings analytics.js and the mobile libraries fetch. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ingestApp, WRITE_KEY } from '../../support/ingest-app.ts';

interface Settings {
  integrations: Record<string, { apiKey: string; apiHost: string; protocol: string }>;
  metrics: { sampleRate: number };
  plan: unknown;
}

test('a known write key gets Segment.io settings pointing at this host', async () => {
  const { app } = ingestApp();
  const res = await app.request(`http://flock.internal:8080/v1/projects/${WRITE_KEY}/settings`, { headers: { host: 'flock.internal:8080', origin: 'https://shop.example' } });
  assert.is(res.status, 200);
  assert.is(res.headers.get('access-control-allow-origin'), '*');
  const settings = (await res.json()) as Settings;
  assert.equal(
    { apiKey: settings.integrations['Segment.io']?.apiKey, apiHost: settings.integrations['Segment.io']?.apiHost, protocol: settings.integrations['Segment.io']?.protocol },
    { apiKey: WRITE_KEY, apiHost: 'flock.internal:8080/v1', protocol: 'http' },
  );
  assert.is(settings.metrics.sampleRate, 0);
  assert.ok(settings.plan);
});

test('a configured public host and a TLS proxy are honoured', async () => {
  const { app } = ingestApp({ publicApiHost: 'events.example.com/v1' });
  const res = await app.request(`/v1/projects/${WRITE_KEY}/settings`, { headers: { 'x-forwarded-proto': 'https' } });
  const segment = ((await res.json()) as Settings).integrations['Segment.io'];
  assert.is(segment?.apiHost, 'events.example.com/v1');
  assert.is(segment?.protocol, 'https');
});

test('an unknown write key is 404 with the error envelope', async () => {
  const { app } = ingestApp();
  const res = await app.request('/v1/projects/nope/settings');
  assert.is(res.status, 404);
  assert.equal(await res.json(), { error: { code: 'unknown_write_key', message: 'no source has this write key' } });
  assert.ok(res.headers.get('request-id'));
});

test.run();
