/** Tests for the body parser: the nesting-depth guard (which keeps poison events out of the log) and JSON errors. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { jsonDepth, parseJsonObject } from '../../../api/ingest/parse-json.ts';
import { HttpError } from '../../../api/http-error.ts';
import { MAX_JSON_DEPTH } from '../../../engine/event/limits.ts';
import { ingestApp } from '../../support/ingest-app.ts';

const bytes = (text: string) => Buffer.from(text);

test('jsonDepth counts brackets outside strings only', () => {
  assert.is(jsonDepth(bytes('{}')), 1);
  assert.is(jsonDepth(bytes('{"a":[1,{"b":[]}]}')), 4);
  assert.is(jsonDepth(bytes('{"a":"[[[[{{{{"}')), 1);
  assert.is(jsonDepth(bytes('{"a":"quote \\" then [[[["}')), 1);
  assert.is(jsonDepth(bytes('{"a":"backslash \\\\","b":[[]]}')), 3);
  assert.is(jsonDepth(bytes('{"é":["ü",["日本"]]}')), 3);
  assert.is(jsonDepth(bytes('1')), 0);
  // stops early once over the limit.
  assert.is(jsonDepth(bytes('['.repeat(1000)), 10), 11);
});

test('parseJsonObject: a depth of exactly the limit parses, one more is json_too_deep', () => {
  const nested = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;
  assert.ok(parseJsonObject(bytes(nested(MAX_JSON_DEPTH))));
  const error = (() => {
    try {
      parseJsonObject(bytes(nested(MAX_JSON_DEPTH + 1)));
      return null;
    } catch (e) {
      return e;
    }
  })();
  assert.instance(error, HttpError);
  assert.is((error as HttpError).code, 'json_too_deep');
  assert.is((error as HttpError).status, 400);
});

test('a deeply nested event is 400 json_too_deep, single or in a batch, never a 5xx and never appended', async () => {
  const { post, log } = ingestApp();
  for (const depth of [100, 5_000, 15_000]) {
    const deep = '['.repeat(depth) + ']'.repeat(depth);
    const single = await post('/v1/t', `{"userId":"u","event":"E","properties":{"a":${deep}}}`);
    assert.is(single.status, 400);
    assert.is(((await single.json()) as { error: { code: string } }).error.code, 'json_too_deep');
    const batch = await post('/v1/b', `{"batch":[{"type":"track","userId":"u","event":"E","properties":{"a":${deep}}}],"pad":"${'x'.repeat(40_000)}"}`);
    assert.is(batch.status, 400);
  }
  assert.is(log.appends, 0);
});

test('an upload that breaks off is 400 incomplete_body', async () => {
  const { app } = ingestApp();
  let sent = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(bytes('{"userId":"u",'));
      } else controller.error(new Error('socket hang up'));
    },
  });
  const res = await app.request('/v1/t', {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from('wk_test:').toString('base64')}` },
    body: stream,
    duplex: 'half',
  } as RequestInit);
  assert.is(res.status, 400);
  assert.is(((await res.json()) as { error: { code: string } }).error.code, 'incomplete_body');
});

test.run();
