/** Tests for the body parser: the nesting-depth guard (which keeps poison events out of the log) and JSON errors. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { parseJsonObject, scanJson } from '../../../api/ingest/parse-json.ts';
import { jsonBytes } from '../../../engine/event/normalize-batch.ts';
import { HttpError } from '../../../api/http-error.ts';
import { MAX_JSON_DEPTH } from '../../../engine/event/limits.ts';
import { ingestApp } from '../../support/ingest-app.ts';

const bytes = (text: string) => Buffer.from(text);

const depth = (text: string, max?: number) => scanJson(bytes(text), max).depth;

test('scanJson: depth counts brackets outside strings only', () => {
  assert.is(depth('{}'), 1);
  assert.is(depth('{"a":[1,{"b":[]}]}'), 4);
  assert.is(depth('{"a":"[[[[{{{{"}'), 1);
  assert.is(depth('{"a":"quote \\" then [[[["}'), 1);
  assert.is(depth('{"a":"backslash \\\\","b":[[]]}'), 3);
  assert.is(depth('{"é":["ü",["日本"]]}'), 3);
  assert.is(depth('1'), 0);
  // stops early once over the limit.
  assert.is(depth('['.repeat(1000), 10), 11);
});

const trueDepth = (value: unknown): number =>
  typeof value === 'object' && value !== null ? 1 + Math.max(0, ...Object.values(value).map(trueDepth)) : 0;

test('scanJson: depth agrees with the parsed value, whatever the strings hold', () => {
  const text = fc.string({ unit: fc.constantFrom('"', '\\', '[', '{', ']', '}', ',', 'a', 'é') });
  const value = fc.letrec((tie) => ({
    node: fc.oneof({ depthSize: 'small' }, text, fc.integer(), tie('array'), tie('object')),
    array: fc.array(tie('node'), { maxLength: 4 }),
    object: fc.dictionary(text, tie('node'), { maxKeys: 4 }),
  })).node;
  fc.assert(
    fc.property(value, (v) => {
      assert.is(scanJson(bytes(JSON.stringify(v))).depth, trueDepth(v));
    }),
    { numRuns: 500 },
  );
});

test('scanJson: batch item sizes are the items as sent, whitespace around them excluded', () => {
  const items = (text: string) => scanJson(bytes(text)).batchItemBytes;
  assert.equal(items('{"batch":[{"a":1},{"b":"x,]}"}]}'), [7, 12]);
  assert.equal(items('{ "sentAt": "x", "batch" : [ {"a": [1, 2]} ,\n  "s" , 12 , null , [] ] }'), [13, 3, 2, 4, 2]);
  assert.equal(items('{"batch":[]}'), []);
  assert.equal(items('{"context":{"batch":[1,2]},"batch":[{"é":"日本"}]}'), [Buffer.byteLength('{"é":"日本"}')]);
  // the last "batch" key wins, as in JSON.parse.
  assert.equal(items('{"batch":[1],"batch":[22,333]}'), [2, 3]);
  assert.is(items('{"context":{}}'), null);
  assert.is(items('{"batch":{"a":[1]}}'), null);
  assert.is(items('[1,2]'), null);
});

test('scanJson: on compact JSON each item size equals its serialised size', () => {
  fc.assert(
    fc.property(fc.array(fc.jsonValue(), { maxLength: 8 }), fc.jsonValue(), (batch, context) => {
      const body = JSON.stringify({ context, batch, sentAt: 'x' });
      assert.equal(scanJson(bytes(body)).batchItemBytes, batch.map(jsonBytes));
    }),
    { numRuns: 300 },
  );
});

test('parseJsonObject: a depth of exactly the limit parses, one more is json_too_deep', () => {
  const nested = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;
  assert.ok(parseJsonObject(bytes(nested(MAX_JSON_DEPTH))).body);
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
