/** Write order of LMDB keys: `sortForWrite` / `byKey` agree with LMDB's key order (compareKeys) where it matters. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { byKey, compareKeys, sortForWrite, sortGrouped } from '../../../engine/store/keys.ts';

test('byKey orders keys of strings and same-width numbers as LMDB does', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom('spa_a', 'spa_b'), fc.string({ unit: 'grapheme-ascii', maxLength: 6 }), fc.integer({ min: 1e12, max: 9e12 })), { maxLength: 200 }), (keys) => {
      const items = keys.map((key, i) => ({ key, i }));
      const sorted = byKey(items.slice()).map((x) => x.key);
      const expected = keys.slice().sort(compareKeys);
      assert.equal(sorted, expected);
    }),
    { numRuns: 300 },
  );
});

test('sortForWrite keeps every item once (duplicates included) and handles any size', () => {
  for (const n of [0, 1, 2, 35, 36, 37, 1297, 5000]) {
    const items = Array.from({ length: n }, (_, i) => ({ s: `k${(i * 7919) % 97}`, i }));
    const sorted = sortForWrite(items.slice(), (x) => x.s);
    assert.is(sorted.length, n);
    assert.equal(sorted.map((x) => x.i).sort((a, b) => a - b), items.map((x) => x.i));
    for (let i = 1; i < n; i++) assert.ok(sorted[i - 1]!.s <= sorted[i]!.s);
  }
});

test('sortGrouped orders keys by their shared prefix, then the rest, as LMDB does', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom('spa_a', 'spa_b'), fc.constantFrom('aud_x', 'aud_y', 'tra_z'), fc.string({ unit: 'grapheme-ascii', maxLength: 6 }), fc.integer({ min: 1e12, max: 9e12 })), { maxLength: 200 }), (keys) => {
      const sorted = sortGrouped(keys, (k) => `${k[0]}\u0000${k[1]}`, (k) => `${k[2]}\u0000${k[3]}`);
      assert.equal(sorted, keys.slice().sort(compareKeys));
    }),
    { numRuns: 300 },
  );
});

test.run();
