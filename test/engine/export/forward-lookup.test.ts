/** The merge join of dense exports: LMDB's key order for strings, and cursor lookups equal to point lookups. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { compareKeyStrings, forwardLookup } from '../../../engine/export/export-profiles.ts';

const utf8 = (a: string, b: string) => Math.sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
const text = fc.string({ unit: fc.oneof(fc.constantFrom('a', 'b', 'z', '0', '_'), fc.constantFrom('é', '\ue000', '\uffff', '😀', '𝔸')), maxLength: 5 });

test('compareKeyStrings orders as UTF-8 bytes (LMDB), also past U+D800 where JS < does not', () => {
  fc.assert(fc.property(text, text, (a, b) => Math.sign(compareKeyStrings(a, b)) === utf8(a, b)));
  assert.ok('\ue000' > '😀' && compareKeyStrings('\ue000', '😀') < 0);
});

test('forwardLookup answers ascending lookups (hits and misses) as a Map does', () => {
  fc.assert(
    fc.property(fc.uniqueArray(text), fc.array(text), (keys, asked) => {
      const sorted = [...keys].sort(compareKeyStrings);
      const lookup = forwardLookup(sorted.map((k, i) => [k, i] as const), (e) => e[0], (e) => e[1]);
      const map = new Map(sorted.map((k, i) => [k, i]));
      for (const k of [...new Set([...asked, ...keys.filter((_, i) => i % 2 === 0)])].sort(compareKeyStrings)) assert.is(lookup(k), map.get(k));
    }),
  );
});

test.run();
