/**
 * Compatibility: requests shaped byte for byte like analytics.js (`/v1/t`, `/v1/p`, `/v1/b`, text/plain,
 * writeKey in the body, `_metadata`) and the mobile libraries (`/v1/b`, gzip, text/plain, chunked).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request } from 'node:http';
import { createGzip } from 'node:zlib';
import { createApp } from '../../../api/app.ts';
import { startServer, type RunningServer } from '../../../api/serve.ts';
import { staticSpaceDirectory } from '../../../engine/space/space-directory.ts';
import { memoryEventLog } from '../../support/memory-event-log.ts';
import { SPACES, WRITE_KEY } from '../../support/ingest-app.ts';

const log = memoryEventLog();
let server: RunningServer;
const RECEIVED = Date.UTC(2024, 4, 1, 12, 0, 0);

test.before(async () => {
  server = await startServer(
    createApp({ eventLog: log, spaces: staticSpaceDirectory(SPACES), clock: () => RECEIVED }),
    { host: '127.0.0.1', port: 0 },
  );
});
test.after(async () => {
  await server.close(1_000);
});
test.before.each(() => {
  log.clear();
});

// analytics.js (analytics-next) standard delivery: one event per request, JSON as text/plain, key order as it serialises.
const AJS_TRACK =
  '{"timestamp":"2024-05-01T11:59:58.000Z","integrations":{},"userId":null,"anonymousId":"6f1c7e2a-3b9d-4c61-9b8e-0d2f5a7c9e11","event":"Added to Cart","type":"track","properties":{"sku":"A-100","price":12.5},"context":{"page":{"path":"/shop","referrer":"","search":"?utm_source=news","title":"Shop","url":"https://shop.example/shop?utm_source=news"},"userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36","userAgentData":{"brands":[{"brand":"Chromium","version":"124"}],"mobile":false,"platform":"Linux"},"locale":"en-GB","library":{"name":"analytics.js","version":"next-1.70.0"},"timezone":"Europe/London","campaign":{"source":"news"}},"messageId":"ajs-next-1714564798000-0b7e5a3c-1f2d-4e6a-8c9b-7d5e3f1a2b4c","writeKey":"' +
  WRITE_KEY +
  '","sentAt":"2024-05-01T11:59:58.120Z","_metadata":{"bundled":["Segment.io"],"unbundled":[],"bundledIds":[]}}';

const AJS_PAGE =
  '{"timestamp":"2024-05-01T11:59:57.000Z","integrations":{},"userId":"u-42","anonymousId":"6f1c7e2a-3b9d-4c61-9b8e-0d2f5a7c9e11","type":"page","properties":{"path":"/pricing","referrer":"","search":"","title":"Pricing","url":"https://shop.example/pricing","name":"Pricing","category":"Docs"},"name":"Pricing","category":"Docs","context":{"page":{"path":"/pricing","referrer":"","search":"","title":"Pricing","url":"https://shop.example/pricing"},"userAgent":"Mozilla/5.0","locale":"en-GB","library":{"name":"analytics.js","version":"next-1.70.0"}},"messageId":"ajs-next-1714564797000-7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","writeKey":"' +
  WRITE_KEY +
  '","sentAt":"2024-05-01T11:59:57.050Z","_metadata":{"bundled":["Segment.io"],"unbundled":[],"bundledIds":[]}}';

async function post(path: string, body: string, headers: Record<string, string>): Promise<{ status: number; json: unknown; headers: Headers }> {
  const res = await fetch(`${server.url}${path}`, { method: 'POST', headers, body });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

test('analytics.js: /v1/t with text/plain and the write key in the body', async () => {
  const res = await post('/v1/t', AJS_TRACK, { 'Content-Type': 'text/plain', Origin: 'https://shop.example' });
  assert.is(res.status, 200);
  assert.equal(res.json, { success: true });
  assert.is(res.headers.get('access-control-allow-origin'), '*');
  const [event] = log.events;
  assert.is(event?.type, 'track');
  assert.is(event?.event, 'Added to Cart');
  assert.is(event?.userId, null);
  assert.is(event?.anonymousId, '6f1c7e2a-3b9d-4c61-9b8e-0d2f5a7c9e11');
  assert.is(event?.messageId, 'ajs-next-1714564798000-0b7e5a3c-1f2d-4e6a-8c9b-7d5e3f1a2b4c');
  assert.is(event?.timestamp, RECEIVED - 120);
  assert.is((event?.context as { library: { name: string } }).library.name, 'analytics.js');
  // `_metadata`, `writeKey` and `sentAt` are transport fields, not part of the event.
  assert.not.ok('_metadata' in (event ?? {}));
  assert.not.ok('writeKey' in (event ?? {}));
});

test('analytics.js: /v1/p becomes Page Viewed', async () => {
  const res = await post('/v1/p', AJS_PAGE, { 'Content-Type': 'text/plain' });
  assert.is(res.status, 200);
  const [event] = log.events;
  assert.is(event?.event, 'Page Viewed');
  assert.is(event?.userId, 'u-42');
  assert.equal(event?.properties, {
    path: '/pricing',
    referrer: '',
    search: '',
    title: 'Pricing',
    url: 'https://shop.example/pricing',
    name: 'Pricing',
    category: 'Docs',
    page_name: 'Pricing',
    page_category: 'Docs',
  });
  assert.is(event?.timestamp, RECEIVED - 50);
});

test('analytics.js batching: /v1/b with {writeKey, batch, sentAt}, events without their own sentAt', async () => {
  // the batched dispatcher drops each event's sentAt and sends one for the batch.
  const strip = (json: string) => json.replace(/,"sentAt":"[^"]+"/, '');
  const body = `{"writeKey":"${WRITE_KEY}","batch":[${strip(AJS_TRACK)},${strip(AJS_PAGE)}],"sentAt":"2024-05-01T11:59:59.000Z"}`;
  const res = await post('/v1/b', body, { 'Content-Type': 'text/plain' });
  assert.is(res.status, 200);
  assert.equal(res.json, { success: true });
  assert.equal(log.events.map((e) => [e.event, e.timestamp]), [
    ['Added to Cart', RECEIVED - 1_000],
    ['Page Viewed', RECEIVED - 2_000],
  ]);
});

test('analytics.js reads X-RateLimit-Reset on 429: the header is exposed to the page', async () => {
  const res = await fetch(`${server.url}/v1/t`, { method: 'OPTIONS', headers: { Origin: 'https://shop.example', 'Access-Control-Request-Method': 'POST' } });
  assert.is(res.status, 204);
  const get = await fetch(`${server.url}/v1/t`, { method: 'POST', headers: { 'Content-Type': 'text/plain', Origin: 'https://shop.example' }, body: AJS_TRACK });
  assert.match(get.headers.get('access-control-expose-headers') ?? '', /X-RateLimit-Reset/i);
});

// analytics-kotlin: text/plain, gzip, chunked (setChunkedStreamingMode), "userId":"" before identify.
const KOTLIN_BATCH =
  '{"batch":[{"properties":{"screen":"Home"},"event":"App Opened","type":"track","messageId":"3c1e9f6a-2b7d-4e8a-9f1c-5d6e7a8b9c0d","anonymousId":"0e2f4a6c-8b1d-4f3e-a5c7-9e1b3d5f7a9c","integrations":{},"context":{"instanceId":"a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d","app":{"name":"Shop","version":"3.2.1","namespace":"com.example.shop","build":"321"},"device":{"id":"5f4e3d2c1b0a","manufacturer":"Google","model":"Pixel 8","name":"shiba","type":"android"},"os":{"name":"Android","version":"14"},"screen":{"density":2.625,"height":2205,"width":1080},"network":{"wifi":true,"carrier":"unknown","cellular":false,"bluetooth":false},"locale":"en-US","userAgent":"Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/AP2A.240805.005)","timezone":"America/New_York","library":{"name":"analytics-kotlin","version":"1.16.3"},"traits":{"anonymousId":"0e2f4a6c-8b1d-4f3e-a5c7-9e1b3d5f7a9c"}},"userId":"","_metadata":{"bundled":[],"unbundled":[],"bundledIds":[]},"timestamp":"2024-05-01T11:59:30.000Z"},{"traits":{"email":"kim@example.com"},"type":"identify","messageId":"7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a","anonymousId":"0e2f4a6c-8b1d-4f3e-a5c7-9e1b3d5f7a9c","integrations":{},"context":{"library":{"name":"analytics-kotlin","version":"1.16.3"}},"userId":"kim-7","_metadata":{"bundled":[],"unbundled":[],"bundledIds":[]},"timestamp":"2024-05-01T11:59:40.000Z"},{"properties":{},"name":"Checkout","type":"screen","messageId":"9a0b1c2d-3e4f-4a5b-9c6d-7e8f9a0b1c2d","anonymousId":"0e2f4a6c-8b1d-4f3e-a5c7-9e1b3d5f7a9c","integrations":{},"context":{"library":{"name":"analytics-kotlin","version":"1.16.3"}},"userId":"kim-7","_metadata":{"bundled":[],"unbundled":[],"bundledIds":[]},"timestamp":"2024-05-01T11:59:50.000Z","category":""}],"sentAt":"2024-05-01T12:00:00.000Z","writeKey":"' +
  WRITE_KEY +
  '"}';

// analytics-swift: the same envelope; absent optionals are left out rather than sent empty.
const SWIFT_BATCH =
  '{"batch":[{"type":"track","event":"Purchase","properties":{"total":20},"anonymousId":"B0A1C2D3-E4F5-4A6B-8C7D-9E0F1A2B3C4D","messageId":"E1F2A3B4-C5D6-4E7F-8A9B-0C1D2E3F4A5B","timestamp":"2024-05-01T11:59:55.500Z","context":{"device":{"type":"ios","model":"iPhone15,2","manufacturer":"Apple"},"os":{"name":"iOS","version":"17.4"},"library":{"name":"analytics-swift","version":"1.5.11"}},"integrations":{},"_metadata":{"bundled":[],"unbundled":[],"bundledIds":[]}}],"sentAt":"2024-05-01T12:00:00.000Z","writeKey":"' +
  WRITE_KEY +
  '"}';

/** posts `body` gzip-compressed with chunked transfer encoding and no Content-Length, as HttpURLConnection does. */
function postChunkedGzip(path: string, body: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, server.url);
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'Content-Type': 'text/plain', 'Content-Encoding': 'gzip', 'User-Agent': 'analytics-kotlin/1.16.3' } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as unknown }));
      },
    );
    req.on('error', reject);
    const gzip = createGzip();
    gzip.pipe(req);
    // several writes, so the body really arrives in chunks.
    const third = Math.ceil(body.length / 3);
    gzip.write(body.slice(0, third));
    gzip.write(body.slice(third, 2 * third));
    gzip.end(body.slice(2 * third));
  });
}

test('analytics-kotlin: /v1/b, gzip, text/plain, chunked, empty userId', async () => {
  const res = await postChunkedGzip('/v1/b', KOTLIN_BATCH);
  assert.is(res.status, 200);
  assert.equal(res.json, { success: true });
  assert.equal(
    log.events.map((e) => [e.type, e.event, e.userId, e.timestamp]),
    [
      ['track', 'App Opened', null, RECEIVED - 30_000],
      ['identify', null, 'kim-7', RECEIVED - 20_000],
      ['screen', 'Screen Viewed', 'kim-7', RECEIVED - 10_000],
    ],
  );
  assert.equal(log.events[2]?.properties, { screen_name: 'Checkout' });
  assert.is((log.events[0]?.context as { device: { type: string } }).device.type, 'android');
});

test('analytics-swift: /v1/b, gzip, text/plain', async () => {
  const res = await postChunkedGzip('/v1/b', SWIFT_BATCH);
  assert.is(res.status, 200);
  assert.is(log.events[0]?.event, 'Purchase');
  assert.is(log.events[0]?.anonymousId, 'B0A1C2D3-E4F5-4A6B-8C7D-9E0F1A2B3C4D');
  assert.is(log.events[0]?.timestamp, RECEIVED - 4_500);
});

test('a mobile batch with a wrong key in the body is 401', async () => {
  const res = await postChunkedGzip('/v1/b', SWIFT_BATCH.replace(WRITE_KEY, 'nope'));
  assert.is(res.status, 401);
  assert.is(log.events.length, 0);
});

test('over a real socket: an oversize upload, declared or chunked, is 400 and the server keeps serving', async () => {
  const big = `{"batch":[],"pad":"${'x'.repeat(2 * 1024 * 1024)}"}`;
  const declared = await post('/v1/b', big, { 'Content-Type': 'text/plain', Authorization: `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}` });
  assert.is(declared.status, 400);
  assert.equal(declared.json, { error: { code: 'request_too_large', message: 'the request body is over 512000 bytes' } });
  const chunked = await postChunkedGzip('/v1/b', `{"batch":[],"writeKey":"${WRITE_KEY}","pad":"${Array.from({ length: 200_000 }, (_, i) => i.toString(36)).join('')}"}`);
  assert.is(chunked.status, 400);
  const after = await post('/v1/t', AJS_TRACK, { 'Content-Type': 'text/plain' });
  assert.is(after.status, 200);
});

test.run();
