import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_PARTITIONS, fnv1a32, partitionKey, partitionOf } from '../../../engine/log/partition.ts';

/** the reference: FNV-1a over TextEncoder's bytes. */
function reference(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) h = Math.imul(h ^ byte, 0x01000193);
  return h >>> 0;
}

test('FNV-1a 32 matches the published test vectors', () => {
  assert.is(fnv1a32(''), 0x811c9dc5);
  assert.is(fnv1a32('a'), 0xe40c292c);
  assert.is(fnv1a32('foobar'), 0xbf9cf968);
});

test('hashes the UTF-8 bytes of any string, lone surrogates included', () => {
  for (const text of ['é', '日本', '😀 user', '\ud800', 'a\udc00b', '\ud83d']) assert.is(fnv1a32(text), reference(text), text);
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (text) => fnv1a32(text) === reference(text)), { numRuns: 2000 });
});

test('the key is userId, else anonymousId, else messageId', () => {
  assert.is(partitionKey({ userId: 'u', anonymousId: 'a', messageId: 'm' }), 'u');
  assert.is(partitionKey({ userId: null, anonymousId: 'a', messageId: 'm' }), 'a');
  assert.is(partitionKey({ userId: null, anonymousId: null, messageId: 'm' }), 'm');
});

test('partitions are stable, in range and spread evenly', () => {
  assert.is(DEFAULT_PARTITIONS, 16);
  // pinned: changing the hash would re-route every existing profile
  assert.is(fnv1a32('user-1'), 4115888500);
  assert.is(partitionOf({ userId: 'user-1', anonymousId: null, messageId: 'm' }), 4);
  assert.is(partitionOf({ userId: null, anonymousId: 'anon-7', messageId: 'm' }), 3);
  assert.is(partitionOf({ userId: 'user-1', anonymousId: null, messageId: 'm' }, 64), 4115888500 % 64);
  const counts = new Array<number>(16).fill(0);
  for (let i = 0; i < 16_000; i++) {
    const p = partitionOf({ userId: `user-${i}`, anonymousId: null, messageId: `m${i}` });
    assert.ok(p >= 0 && p < 16);
    counts[p] = (counts[p] ?? 0) + 1;
  }
  for (const count of counts) assert.ok(count > 800 && count < 1200, `uneven partitions: ${counts}`);
});

test.run();
