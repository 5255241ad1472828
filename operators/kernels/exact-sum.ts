/** An exact running sum of doubles (Shewchuk's partials, as Python's math.fsum) that supports removal. */

/**
 * The sum is kept as a short list of non-overlapping partials whose exact sum is the exact sum of
 * every number added (and minus every number removed). Adding `-x` removes `x` exactly, so a sliding
 * window that adds and removes values never drifts, and `exactSumValue` is the correctly rounded
 * result — the same double the oracle gets by summing the window from scratch.
 */
export type ExactSum = number[];

export function exactSumAdd(partials: ExactSum, x: number): void {
  let i = 0;
  for (let j = 0; j < partials.length; j++) {
    let y = partials[j]!;
    if (Math.abs(x) < Math.abs(y)) {
      const t = x;
      x = y;
      y = t;
    }
    const hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) partials[i++] = lo;
    x = hi;
  }
  partials.length = i;
  if (x !== 0 || i === 0) partials.push(x);
}

/** The correctly rounded value of the exact sum (round-half-even, as fsum). */
export function exactSumValue(partials: ExactSum): number {
  let n = partials.length;
  if (n === 0) return 0;
  let hi = partials[--n]!;
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = partials[--n]!;
    hi = x + y;
    const yr = hi - x;
    lo = y - yr;
    if (lo !== 0) break;
  }
  // Correct the rounding when the remaining partials push the half-way case the other way.
  if (n > 0 && ((lo < 0 && partials[n - 1]! < 0) || (lo > 0 && partials[n - 1]! > 0))) {
    const y = lo * 2;
    const x = hi + y;
    const yr = x - hi;
    if (y === yr) hi = x;
  }
  return hi;
}

/** The exact, correctly rounded sum of `values`. */
export function exactSumOf(values: Iterable<number>): number {
  const partials: ExactSum = [];
  for (const v of values) exactSumAdd(partials, v);
  return exactSumValue(partials);
}
