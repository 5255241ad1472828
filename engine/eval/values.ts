/** Value semantics of the query language: path lookup, coercion, comparators and the instants at which time-relative comparators flip. */
import type { ComparatorName } from '../lang/ast.ts';
import { escapeKey } from '../event/safe-keys.ts';

/**
 * The rules (documented in engine/README.md, shared by the engine and the test oracle):
 * - A value is *present* unless it is `undefined` or `null`.
 * - Numbers: a number, or a string that is entirely a finite decimal number (`"12.50"`), is numeric.
 * - Instants: a number is epoch milliseconds; a string is an instant when it is an ISO-8601 date
 *   (`2024-03-01`, UTC midnight) or a date-time with a zone (`…Z`, `…+02:00`). A date-time without a
 *   zone is not an instant (Segment ignores such trait values for time operators).
 * - An array subject matches when any element matches (`$` semantics) for equals/one_of/contains/
 *   starts_with/ends_with and ordering comparators.
 * - `differs` is true only for a present value that does not equal; `omits` and `none_of` are the
 *   negations of `contains` and `one_of` (so they are true for an absent value).
 */

export type Path = readonly string[];

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * `a.b.c` lookup through nested objects; anything else on the way yields undefined. Only own keys
 * count (`trait('constructor')` is no inherited function), in their stored spelling (safe-keys.ts).
 */
export function getPath(root: unknown, path: Path): unknown {
  let cur: unknown = root;
  for (let i = 0; i < path.length; i++) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    const key = escapeKey(path[i]!);
    if (!hasOwn.call(cur, key)) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

export function isPresent(v: unknown): boolean {
  return v !== undefined && v !== null;
}

const NUMERIC = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** The numeric value of `v`, or NaN when it is not numeric. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : Number.NaN;
  if (typeof v === 'string' && NUMERIC.test(v)) {
    const n = Number(v); // ('1e400' is no more a number than Infinity is)
    return Number.isFinite(n) ? n : Number.NaN;
  }
  return Number.NaN;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME_ZONED = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;

/** The instant `v` denotes in epoch ms, or NaN. */
export function toInstant(v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : Number.NaN;
  if (typeof v === 'string') {
    if (DATE_ONLY.test(v)) return Date.parse(`${v}T00:00:00Z`);
    if (DATE_TIME_ZONED.test(v)) return Date.parse(v);
  }
  return Number.NaN;
}

/** The string form used by string comparators, `mode` and `unique`. */
export function toText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** A comparator's resolved argument: a value, or a duration in ms for the relative date comparators. */
export type ArgValue = unknown;

function equalsScalar(v: unknown, a: unknown): boolean {
  if (!isPresent(v)) return a === null;
  if (a === null || a === undefined) return false;
  if (typeof a === 'number') return toNumber(v) === a;
  if (typeof a === 'boolean') return v === a || (typeof v === 'string' && v.toLowerCase() === String(a));
  if (typeof a === 'string') {
    if (typeof v === 'string') return v === a;
    if (typeof v === 'number') return toNumber(a) === v;
    if (typeof v === 'boolean') return a.toLowerCase() === String(v);
    return toText(v) === a;
  }
  if (a instanceof InstantArg) return toInstant(v) === a.ms;
  return false;
}

/** A timestamp literal argument: compared as an instant rather than as text. */
export class InstantArg {
  constructor(readonly ms: number) {}
}

function order(v: unknown, a: unknown): number {
  // NaN means "not comparable".
  if (a instanceof InstantArg) {
    const t = toInstant(v);
    return Number.isNaN(t) ? Number.NaN : t - a.ms;
  }
  if (typeof v === 'number' && typeof a === 'number') return v - a;
  const x = toNumber(v);
  const y = toNumber(a);
  if (!Number.isNaN(x) && !Number.isNaN(y)) return x - y;
  if (typeof v === 'string' && typeof a === 'string') return v < a ? -1 : v > a ? 1 : 0;
  return Number.NaN;
}

const GT = 0;
const GE = 1;
const LT = 2;
const LE = 3;
function orderTest(d: number, op: number): boolean {
  if (Number.isNaN(d)) return false;
  switch (op) {
    case GT:
      return d > 0;
    case GE:
      return d >= 0;
    case LT:
      return d < 0;
    default:
      return d <= 0;
  }
}

function ordered(v: unknown, a: unknown, op: number): boolean {
  if (!isPresent(v)) return false;
  if (!Array.isArray(v)) return orderTest(order(v, a), op);
  for (let i = 0; i < v.length; i++) if (orderTest(order(v[i], a), op)) return true;
  return false;
}

function equalsAny(v: unknown, a: unknown): boolean {
  if (!Array.isArray(v)) return equalsScalar(v, a);
  for (let i = 0; i < v.length; i++) if (equalsScalar(v[i], a)) return true;
  return false;
}

function oneOf(v: unknown, args: readonly ArgValue[]): boolean {
  if (!isPresent(v)) return false;
  for (let i = 0; i < args.length; i++) if (equalsAny(v, args[i])) return true;
  return false;
}

const CONTAINS = 0;
const STARTS = 1;
const ENDS = 2;
function textMatch(s: string, args: readonly ArgValue[], op: number): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!isPresent(a)) continue;
    const t = toText(a);
    if (op === CONTAINS ? s.includes(t) : op === STARTS ? s.startsWith(t) : s.endsWith(t)) return true;
  }
  return false;
}

function textTest(v: unknown, args: readonly ArgValue[], op: number): boolean {
  if (!isPresent(v)) return false;
  if (!Array.isArray(v)) return textMatch(toText(v), args, op);
  for (let i = 0; i < v.length; i++) if (isPresent(v[i]) && textMatch(toText(v[i]), args, op)) return true;
  return false;
}

function instantTest(v: unknown, lo: number, hi: number): boolean {
  if (!isPresent(v)) return false;
  const t = toInstant(v);
  return !Number.isNaN(t) && t >= lo && t <= hi;
}

/** Evaluates `comparator(args)` on subject value `v` at instant `now`. */
export function compareValues(comparator: ComparatorName, v: unknown, args: readonly ArgValue[], now: number): boolean {
  switch (comparator) {
    case 'equals':
      return equalsAny(v, args[0]);
    case 'differs':
      return isPresent(v) && !equalsAny(v, args[0]);
    case 'absent':
      return !isPresent(v);
    case 'exists':
      return isPresent(v);
    case 'greater_than':
      return ordered(v, args[0], GT);
    case 'at_least':
      return ordered(v, args[0], GE);
    case 'less_than':
      return ordered(v, args[0], LT);
    case 'at_most':
      return ordered(v, args[0], LE);
    case 'contains':
      return textTest(v, args, CONTAINS);
    case 'omits':
      return !textTest(v, args, CONTAINS);
    case 'starts_with':
      return textTest(v, args, STARTS);
    case 'ends_with':
      return textTest(v, args, ENDS);
    case 'one_of':
      return oneOf(v, args);
    case 'none_of':
      return !oneOf(v, args);
    case 'before_date':
      return isPresent(v) && toInstant(v) < instantOf(args[0]);
    case 'after_date':
      return isPresent(v) && toInstant(v) > instantOf(args[0]);
    case 'within_last':
      return instantTest(v, now - durationOf(args[0]), now);
    case 'within_next':
      return instantTest(v, now, now + durationOf(args[0]));
    case 'before_last':
      return instantTest(v, Number.NEGATIVE_INFINITY, now - durationOf(args[0]));
    case 'after_next':
      return instantTest(v, now + durationOf(args[0]), Number.POSITIVE_INFINITY);
  }
}

function instantOf(a: ArgValue): number {
  return a instanceof InstantArg ? a.ms : toInstant(a);
}

function durationOf(a: ArgValue): number {
  return typeof a === 'number' ? a : Number.NaN;
}

/** Whether the comparator's truth depends on `now` (so it can flip with no input). */
export function isTimeRelative(comparator: ComparatorName): boolean {
  return comparator === 'within_last' || comparator === 'within_next' || comparator === 'before_last' || comparator === 'after_next';
}

/**
 * The first instant after `now` at which a time-relative comparison of `v` may flip (Infinity if never).
 * Instants are integer milliseconds, so an inclusive bound `t ≤ now` flips at `t + 1`.
 */
export function nextFlip(comparator: ComparatorName, v: unknown, args: readonly ArgValue[], now: number): number {
  if (!isTimeRelative(comparator) || !isPresent(v)) return Number.POSITIVE_INFINITY;
  const t = toInstant(v);
  const d = durationOf(args[0]);
  if (Number.isNaN(t) || Number.isNaN(d)) return Number.POSITIVE_INFINITY;
  let candidates: number[];
  switch (comparator) {
    case 'within_last': // true for now in [t, t + d]
      candidates = [t, t + d + 1];
      break;
    case 'within_next': // true for now in [t - d, t]
      candidates = [t - d, t + 1];
      break;
    case 'before_last': // true for now >= t + d
      candidates = [t + d];
      break;
    default: // after_next: true for now <= t - d
      candidates = [t - d + 1];
  }
  let best = Number.POSITIVE_INFINITY;
  for (const c of candidates) if (c > now && c < best) best = c;
  return best;
}
