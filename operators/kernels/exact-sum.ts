/** An exact running sum of doubles (Shewchuk's partials, as Python's math.fsum) that supports removal and never overflows. */

/**
 * The sum is kept as a short list of non-overlapping partials whose exact sum is the exact sum of
 * every number added (and minus every number removed). Adding `-x` removes `x` exactly, so a sliding
 * window that adds and removes values never drifts, and `exactSumValue` is the correctly rounded
 * result — the same double the oracle gets by summing the window from scratch.
 *
 * Overflow. Doubles end near ±1.8e308, and a partial that overflowed (1e308 + 1e308) would poison
 * the sum for good — Infinity − Infinity is NaN, also after the values left the window. So a value
 * of magnitude ≥ 2^960 is split exactly into `q·2^960 + r` (q an integer, |r| < 2^960) and `q` goes
 * to a second list of partials counted in units of 2^960: neither list can overflow (that would take
 * 2^64 values), removal stays exact, and once the large values are removed the sum is the small
 * values' exact sum again. Only the *value* can be beyond the double range: `exactSumValue` is then
 * ±Infinity, and the mean (`exactSumMean`) stays exact enough to be finite.
 *
 * Layout (plain numbers, checkpointed as is): the partials of the small parts; when a large value
 * was ever added, the list starts with `NaN, k` and the k partials of the large parts.
 */
export type ExactSum = number[];

const LARGE = 2 ** 960;
const UNIT = 2 ** -960;

/** Adds finite `x` (−x removes it). */
export function exactSumAdd(partials: ExactSum, x: number): void {
  if (!Number.isFinite(x)) throw new RangeError(`exactSumAdd: ${x} is not a finite number`);
  if (Math.abs(x) < LARGE) {
    addPartial(partials, lowStart(partials), x);
    return;
  }
  const q = Math.trunc(x * UNIT);
  const r = x - q * LARGE; // exact: both are multiples of x's last bit, and |r| < 2^960
  const start = lowStart(partials);
  const high = start === 0 ? [] : partials.slice(2, start);
  const low = partials.slice(start);
  addPartial(high, 0, q);
  addPartial(low, 0, r);
  partials.length = 0;
  partials.push(Number.NaN, high.length, ...high, ...low);
}

/** Adds every number of `other` (another exact sum) to `partials`. */
export function exactSumMerge(partials: ExactSum, other: ExactSum): void {
  const start = lowStart(other);
  for (let i = start; i < other.length; i++) exactSumAdd(partials, other[i]!);
  // the large parts, already in units of 2^960
  for (let i = 2; i < start; i++) addLarge(partials, other[i]!);
}

/** The correctly rounded value of the exact sum (round-half-even, as fsum); ±Infinity beyond the double range. */
export function exactSumValue(partials: ExactSum): number {
  const start = lowStart(partials);
  if (start === 0 || roundedSum(partials, 2, start) === 0) return roundedSum(partials, start, partials.length);
  return roundedSum(scaled(partials, start), 0, undefined) * LARGE;
}

/**
 * The mean of the `n` values summed: the rounded sum divided by `n` (as `exactSumValue(p) / n`), and
 * when the sum is beyond the double range, computed in units of 2^960 so that it stays finite.
 */
export function exactSumMean(partials: ExactSum, n: number): number {
  const start = lowStart(partials);
  if (start === 0 || roundedSum(partials, 2, start) === 0) return roundedSum(partials, start, partials.length) / n;
  const sum = roundedSum(scaled(partials, start), 0, undefined);
  return Number.isFinite(sum * LARGE) ? (sum * LARGE) / n : (sum / n) * LARGE;
}

/** The exact, correctly rounded sum of `values` (finite). */
export function exactSumOf(values: Iterable<number>): number {
  const partials: ExactSum = [];
  for (const v of values) exactSumAdd(partials, v);
  return exactSumValue(partials);
}

/** The mean of `values` (finite, at least one) as `exactSumMean` computes it. */
export function exactMeanOf(values: readonly number[]): number {
  const partials: ExactSum = [];
  for (const v of values) exactSumAdd(partials, v);
  return exactSumMean(partials, values.length);
}

// ---------------------------------------------------------------------------------------------

/** Where the small parts' partials start: 0, or after `NaN, k` and the k large partials. */
function lowStart(partials: ExactSum): number {
  return partials.length > 0 && Number.isNaN(partials[0]) ? 2 + partials[1]! : 0;
}

/** Adds `q` units of 2^960 (an integer below 2^64). */
function addLarge(partials: ExactSum, q: number): void {
  const start = lowStart(partials);
  const high = start === 0 ? [] : partials.slice(2, start);
  const low = partials.slice(start);
  addPartial(high, 0, q);
  partials.length = 0;
  partials.push(Number.NaN, high.length, ...high, ...low);
}

/** Shewchuk's grow step on the partials `p[from..]`. */
function addPartial(p: number[], from: number, x: number): void {
  let i = from;
  for (let j = from; j < p.length; j++) {
    let y = p[j]!;
    if (Math.abs(x) < Math.abs(y)) {
      const t = x;
      x = y;
      y = t;
    }
    const hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) p[i++] = lo;
    x = hi;
  }
  p.length = i;
  if (x !== 0 || i === from) p.push(x);
}

/** Every partial in units of 2^960: the large ones as they are, the small ones scaled (exact unless below 2^-62). */
function scaled(partials: ExactSum, start: number): number[] {
  const out: number[] = [];
  for (let i = 2; i < start; i++) addPartial(out, 0, partials[i]!);
  for (let i = start; i < partials.length; i++) addPartial(out, 0, partials[i]! * UNIT);
  return out;
}

/** The correctly rounded sum of the non-overlapping partials `p[from..to)` (increasing magnitude). */
function roundedSum(p: readonly number[], from: number, to: number | undefined): number {
  let n = to ?? p.length;
  if (n === from) return 0;
  let hi = p[--n]!;
  let lo = 0;
  while (n > from) {
    const x = hi;
    const y = p[--n]!;
    hi = x + y;
    const yr = hi - x;
    lo = y - yr;
    if (lo !== 0) break;
  }
  // Correct the rounding when the remaining partials push the half-way case the other way.
  if (n > from && ((lo < 0 && p[n - 1]! < 0) || (lo > 0 && p[n - 1]! > 0))) {
    const y = lo * 2;
    const x = hi + y;
    const yr = x - hi;
    if (y === yr) hi = x;
  }
  return hi;
}
