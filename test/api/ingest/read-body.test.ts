/** Tests for request bodies: JSON and text/plain, gzip, the 500 KB limit before and after inflating, zip bombs, bad input. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gzipSync } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import { ingestApp, basic, WRITE_KEY } from '../../support/ingest-app.ts';
import { MAX_EVENT_BYTES, MAX_REQUEST_BYTES } from '../../../engine/event/limits.ts';
import { readBody } from '../../../api/ingest/read-body.ts';
import { HttpError } from '../../../api/http-error.ts';

async function errorOf(res: Response): Promise<[number, string]> {
  return [res.status, ((await res.json()) as { error: { code: string } }).error.code];
}

/** a batch body of exactly `bytes` bytes of JSON, in items of about 16 KB. */
function batchOfSize(bytes: number): string {
  const items = Array.from({ length: Math.ceil(bytes / (MAX_EVENT_BYTES / 2)) }, (_, i) => ({
    type: 'track',
    userId: 'u',
    event: 'E',
    messageId: `m${i}`,
    properties: { pad: '' },
  }));
  const bare = JSON.stringify({ batch: items }).length;
  const share = Math.floor((bytes - bare) / items.length);
  items.forEach((item) => (item.properties.pad = 'x'.repeat(share)));
  const last = items.at(-1);
  if (last !== undefined) last.properties.pad += 'x'.repeat(bytes - JSON.stringify({ batch: items }).length);
  return JSON.stringify({ batch: items });
}

test('application/json, text/plain, no content type, charset: all read as JSON', async () => {
  const { post, log } = ingestApp();
  for (const type of ['application/json', 'text/plain', 'text/plain;charset=UTF-8', 'application/json; charset=utf-8', '']) {
    const res = await post('/v1/t', { userId: 'u', event: 'E' }, { headers: { 'content-type': type } });
    assert.is(res.status, 200, type);
  }
  assert.is(log.events.length, 5);
});

test('a UTF-8 byte-order mark is skipped', async () => {
  const { post, log } = ingestApp();
  const res = await post('/v1/t', `\ufeff${JSON.stringify({ userId: 'u', event: 'É' })}`);
  assert.is(res.status, 200);
  assert.is(log.events[0]?.event, 'É');
});

test('gzip bodies are inflated (Content-Encoding gzip and x-gzip)', async () => {
  const { post, app, log } = ingestApp();
  assert.is((await post('/v1/b', { batch: [{ type: 'track', userId: 'u', event: 'E' }] }, { gzip: true })).status, 200);
  const res = await app.request('/v1/t', {
    method: 'POST',
    headers: { authorization: basic(WRITE_KEY), 'content-encoding': 'x-gzip' },
    body: gzipSync(JSON.stringify({ userId: 'u', event: 'F' })),
  });
  assert.is(res.status, 200);
  assert.equal(log.events.map((e) => e.event), ['E', 'F']);
});

test('an empty or identity Content-Encoding is no encoding', async () => {
  const { post } = ingestApp();
  for (const encoding of ['', 'identity', ' Identity ']) {
    assert.is((await post('/v1/t', { userId: 'u', event: 'E' }, { headers: { 'content-encoding': encoding } })).status, 200, encoding);
  }
});

test('invalid JSON, an empty body, a non-object body → 400 invalid_json', async () => {
  const { post, log } = ingestApp();
  for (const body of ['{', '', 'null', '[1,2]', '"track"', '42', '{"a":1}garbage']) {
    assert.equal(await errorOf(await post('/v1/t', body)), [400, 'invalid_json'], body);
  }
  assert.is(log.events.length, 0);
});

test('corrupt gzip → 400 invalid_gzip; an unknown encoding → 415', async () => {
  const { app, log } = ingestApp();
  const corrupt = await app.request('/v1/t', {
    method: 'POST',
    headers: { authorization: basic(WRITE_KEY), 'content-encoding': 'gzip' },
    body: '{"userId":"u","event":"E"}',
  });
  assert.equal(await errorOf(corrupt), [400, 'invalid_gzip']);
  const brotli = await app.request('/v1/t', {
    method: 'POST',
    headers: { authorization: basic(WRITE_KEY), 'content-encoding': 'br' },
    body: '{}',
  });
  assert.equal(await errorOf(brotli), [415, 'unsupported_encoding']);
  assert.is(log.events.length, 0);
});

test('a single call: 32 KB is fine, one byte more is 400 event_too_large', async () => {
  const { post, log } = ingestApp();
  const base = { userId: 'u', event: 'E', properties: { pad: '' } };
  const pad = MAX_EVENT_BYTES - JSON.stringify(base).length;
  const exact = JSON.stringify({ ...base, properties: { pad: 'x'.repeat(pad) } });
  assert.is(Buffer.byteLength(exact), MAX_EVENT_BYTES);
  assert.is((await post('/v1/t', exact)).status, 200);
  const over = JSON.stringify({ ...base, properties: { pad: 'x'.repeat(pad + 1) } });
  assert.equal(await errorOf(await post('/v1/t', over)), [400, 'event_too_large']);
  // gzip does not hide the size: the inflated body is measured.
  assert.equal(await errorOf(await post('/v1/t', over, { gzip: true })), [400, 'event_too_large']);
  assert.is(log.events.length, 1);
});

test('a batch: 500 KB is fine, one byte more is 400 request_too_large', async () => {
  const { post, log } = ingestApp();
  const exact = batchOfSize(MAX_REQUEST_BYTES);
  assert.is(Buffer.byteLength(exact), MAX_REQUEST_BYTES);
  const ok = await post('/v1/b', exact);
  assert.is(ok.status, 200);
  const kept = log.events.length;
  assert.ok(kept > 1);
  const over = batchOfSize(MAX_REQUEST_BYTES + 1);
  assert.equal(await errorOf(await post('/v1/b', over)), [400, 'request_too_large']);
  assert.is(log.events.length, kept);
});

test('a gzip body that inflates past 500 KB is refused, however small (zip bomb)', async () => {
  const { log } = ingestApp();
  // 50 MB of spaces inside a valid JSON document compress to ~50 KB.
  const bomb = `{"batch":[],"pad":"${' '.repeat(50 * 1024 * 1024)}"}`;
  const compressed = gzipSync(bomb);
  assert.ok(compressed.length < MAX_REQUEST_BYTES);
  const res = await ingestApp().app.request('/v1/b', {
    method: 'POST',
    headers: { authorization: basic(WRITE_KEY), 'content-encoding': 'gzip' },
    body: compressed,
  });
  assert.equal(await errorOf(res), [400, 'request_too_large']);
  // and a compressed body over 500 KB is refused before inflating.
  const incompressible = gzipSync(randomBytes(MAX_REQUEST_BYTES + 4096));
  assert.ok(incompressible.length > MAX_REQUEST_BYTES);
  const big = await ingestApp().app.request('/v1/b', {
    method: 'POST',
    headers: { authorization: basic(WRITE_KEY), 'content-encoding': 'gzip' },
    body: incompressible,
  });
  assert.equal(await errorOf(big), [400, 'request_too_large']);
  assert.is(log.events.length, 0);
});

test('readBody enforces the limit on a chunked stream with no Content-Length', async () => {
  const chunk = new Uint8Array(64 * 1024).fill(32);
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      // an endless upload: reading must stop at the limit.
      controller.enqueue(chunk);
    },
  });
  const request = new Request('http://x/v1/b', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
  const error = await readBody(request, 200 * 1024).then(
    () => null,
    (e: unknown) => e,
  );
  assert.instance(error, HttpError);
  assert.is((error as HttpError).code, 'request_too_large');
  assert.ok(pulled < 10);
  const small = new Request('http://x/v1/b', { method: 'POST', body: '{"a":1}' });
  assert.is((await readBody(small, 100)).toString(), '{"a":1}');
  assert.is((await readBody(new Request('http://x/'), 100)).length, 0);
});

test('a declared Content-Length over the limit is refused without reading', async () => {
  let read = false;
  // highWaterMark 0: nothing is pulled until someone reads.
  const stream = new ReadableStream<Uint8Array>(
    {
      pull() {
        read = true;
      },
    },
    { highWaterMark: 0 },
  );
  const request = new Request('http://x/v1/b', {
    method: 'POST',
    body: stream,
    headers: { 'content-length': String(MAX_REQUEST_BYTES + 1) },
    duplex: 'half',
  } as RequestInit);
  const error = await readBody(request, MAX_REQUEST_BYTES).catch((e: unknown) => e);
  assert.is((error as HttpError).code, 'request_too_large');
  assert.not.ok(read);
});

test.run();
