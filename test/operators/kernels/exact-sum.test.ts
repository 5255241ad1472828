/** Exact sums: correctly rounded against BigInt arithmetic, exact removal, and no overflow poisoning the sum. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { exactMeanOf, exactSumAdd, exactSumMean, exactSumMerge, exactSumOf, exactSumValue, type ExactSum } from '../../../operators/kernels/exact-sum.ts';

/** Values m·2^e, exact as doubles and as BigInt multiples of 2^-100. */
const valueArb = fc
  .tuple(fc.integer({ min: -(2 ** 20), max: 2 ** 20 }), fc.oneof(fc.integer({ min: -100, max: 60 }), fc.integer({ min: 940, max: 1003 })))
  .map(([m, e]) => ({ x: m * 2 ** e, big: BigInt(m) * 2n ** BigInt(e + 100) }));

/** The correctly rounded double of the exact sum (to nearest, ties to even; beyond the range: ±Infinity). */
function reference(values: ReadonlyArray<{ big: bigint }>): number {
  const total = values.reduce((s, v) => s + v.big, 0n);
  const sign = total < 0n ? -1 : 1;
  const a = total < 0n ? -total : total;
  const bits = a.toString(2).length;
  if (a === 0n) return 0;
  if (bits <= 53) return sign * Number(a) * 2 ** -100;
  const shift = bits - 53;
  let q = a >> BigInt(shift);
  const rest = a - (q << BigInt(shift));
  const half = 1n << BigInt(shift - 1);
  if (rest > half || (rest === half && (q & 1n) === 1n)) q += 1n;
  return sign * Number(q) * 2 ** (shift - 100);
}

test('the value is the correctly rounded exact sum, ±Infinity beyond the double range; removal is exact', () => {
  fc.assert(
    fc.property(fc.array(valueArb, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 12 }), (values, removals) => {
      const p: ExactSum = [];
      for (const v of values) exactSumAdd(p, v.x);
      assert.is(exactSumValue(p), reference(values));
      // remove some, in any order: the rest's exact sum, as if never added
      const kept = [...values];
      for (const r of removals) {
        if (kept.length === 0) break;
        const [gone] = kept.splice(r % kept.length, 1);
        exactSumAdd(p, -gone!.x);
        assert.is(exactSumValue(p), reference(kept));
      }
    }),
    { numRuns: 2000 },
  );
});

test('1e308 + 1e308 is beyond the range; once they are removed, the sum is exact again (no NaN left behind)', () => {
  const p: ExactSum = [];
  exactSumAdd(p, 1e308);
  exactSumAdd(p, 1e308);
  exactSumAdd(p, 0.1);
  assert.is(exactSumValue(p), Number.POSITIVE_INFINITY);
  const mean = exactSumMean(p, 3);
  assert.ok(Math.abs(mean / ((1e308 / 3) * 2) - 1) < 1e-15, String(mean));
  exactSumAdd(p, -1e308);
  assert.is(exactSumValue(p), 1e308 + 0.1);
  exactSumAdd(p, -1e308);
  exactSumAdd(p, 0.2);
  assert.is(exactSumValue(p), exactSumOf([0.1, 0.2]));
  assert.ok(p.slice(1).every((x) => !Number.isNaN(x)), 'only the layout marker is NaN');
});

test('the mean of values whose sum overflows is finite and exact enough', () => {
  assert.is(exactMeanOf([1e308, 1e308]), 1e308);
  assert.is(exactMeanOf([1e308, 1e308, 1e308, -1e308]), 5e307);
  assert.is(exactMeanOf([-1.5e308, -1.5e308]), -1.5e308);
  assert.is(exactMeanOf([1, 2, 4]), 7 / 3);
});

test('merging equals adding every value to one sum', () => {
  fc.assert(
    fc.property(fc.array(valueArb, { maxLength: 8 }), fc.array(valueArb, { maxLength: 8 }), (a, b) => {
      const pa: ExactSum = [];
      const pb: ExactSum = [];
      for (const v of a) exactSumAdd(pa, v.x);
      for (const v of b) exactSumAdd(pb, v.x);
      exactSumMerge(pa, pb);
      assert.is(exactSumValue(pa), reference([...a, ...b]));
    }),
  );
});

test('non-finite input is an invariant failure (reducers ignore such values before)', () => {
  for (const x of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) assert.throws(() => exactSumAdd([], x), /not a finite number/);
  assert.is(exactSumOf([]), 0);
});

test.run();
