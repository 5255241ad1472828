/** The pure rules of delivery: backoff with jitter and Retry-After, batch splitting, the webhook signature, list values and differences, limit presets. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { parseRetryAfter, retryDelay } from '../../../engine/destinations/backoff.ts';
import { splitBatches } from '../../../engine/destinations/batches.ts';
import { LIMIT_PRESETS, presetLimits } from '../../../engine/destinations/destination-record.ts';
import { listDifference, listValue } from '../../../engine/destinations/list-values.ts';
import { deliveryMessageId } from '../../../engine/destinations/message-id.ts';
import { signBody, verifySignature } from '../../../engine/destinations/signature.ts';
import { retryableStatus } from '../../../engine/destinations/transport.ts';

test('backoff: full jitter under an exponential ceiling capped at maxMs; Retry-After is a floor', () => {
  const policy = { baseMs: 100, maxMs: 5000 };
  assert.equal([1, 2, 3, 4].map((a) => retryDelay(policy, a, undefined, 0.999999)), [99, 199, 399, 799]);
  assert.is(retryDelay(policy, 20, undefined, 0.5), 2500, 'the ceiling stops at maxMs');
  assert.is(retryDelay(policy, 1, undefined, 0), 0);
  assert.is(retryDelay(policy, 1, 2000, 0.5), 2000, 'never earlier than the receiver asked');
  assert.is(retryDelay(policy, 1, 60_000, 0.5), 5000, 'but never beyond maxMs');
  assert.is(parseRetryAfter('2', 0), 2000);
  assert.is(parseRetryAfter('0.25', 0), 250);
  assert.is(parseRetryAfter('Thu, 01 Jan 1970 00:00:10 GMT', 4000), 6000);
  assert.is(parseRetryAfter('soon', 0), undefined);
  assert.is(parseRetryAfter(null, 0), undefined);
  assert.equal([200, 400, 401, 408, 429, 500, 503].map(retryableStatus), [false, false, false, true, true, true, true]);
});

test('batches: at most maxEvents and about maxBytes each, in order; an oversized message travels alone', () => {
  const items = ['aaaa', 'bb', 'cccccc', 'd', 'eeeeeeeeeeeeeeeeeeee', 'f'];
  assert.equal(splitBatches(items, 2, 1000, (s) => s.length), [['aaaa', 'bb'], ['cccccc', 'd'], ['eeeeeeeeeeeeeeeeeeee', 'f']]);
  assert.equal(splitBatches(items, 100, 12, (s) => s.length), [['aaaa', 'bb'], ['cccccc', 'd'], ['eeeeeeeeeeeeeeeeeeee'], ['f']]);
  assert.equal(splitBatches([], 10, 10, () => 1), []);
});

test('signature: HMAC-SHA256 over "<t>.<body>", verified in constant time, refused when altered or old', () => {
  const header = signBody('s3cret', 1_700_000_000, '{"batch":[]}');
  assert.match(header, /^t=1700000000,v1=[0-9a-f]{64}$/);
  assert.ok(verifySignature('s3cret', header, '{"batch":[]}', 1_700_000_100));
  assert.not.ok(verifySignature('s3cret', header, '{"batch":[1]}', 1_700_000_100), 'another body');
  assert.not.ok(verifySignature('other', header, '{"batch":[]}', 1_700_000_100), 'another secret');
  assert.not.ok(verifySignature('s3cret', header, '{"batch":[]}', 1_700_001_000), 'too old');
  assert.not.ok(verifySignature('s3cret', undefined, '{"batch":[]}', 1_700_000_000));
});

test('list values: trimmed; hashed = SHA-256 hex of the lower-cased trimmed value; the difference of two syncs', () => {
  assert.is(listValue('  Ann@X.com ', false), 'Ann@X.com');
  assert.is(listValue('  Ann@X.com ', true), createHash('sha256').update('ann@x.com').digest('hex'));
  assert.equal(listDifference(new Set(['a', 'b', 'c']), new Set(['b', 'c', 'd', 'e'])), { added: ['d', 'e'], removed: ['a'] });
  assert.equal(listDifference(new Set(), new Set(['x'])), { added: ['x'], removed: [] });
});

test('presets carry Segment’s per-tool request caps; messageIds are stable and distinct', () => {
  assert.is(LIMIT_PRESETS['braze'], 100);
  assert.is(presetLimits('pardot')?.requestsPerSecond, 2);
  assert.is(presetLimits('nope'), undefined);
  assert.is(deliveryMessageId('a', 'b'), deliveryMessageId('a', 'b'));
  assert.is.not(deliveryMessageId('a', 'b'), deliveryMessageId('ab', ''));
});

test.run();
