/** Time units of durations (`7 days`, `1 hour`) and their length in milliseconds. */
import type { Duration, Span, TimeUnit } from './ast.ts';

export const UNIT_MS: Readonly<Record<TimeUnit, number>> = {
  second: 1_000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/** `day`, `days`, `DAYS` → `day`; anything else → undefined. */
export function parseUnit(word: string): TimeUnit | undefined {
  const lower = word.toLowerCase();
  const singular = lower.endsWith('s') ? lower.slice(0, -1) : lower;
  return Object.hasOwn(UNIT_MS, singular) ? (singular as TimeUnit) : undefined;
}

export function makeDuration(amount: number, unit: TimeUnit, span?: Span): Duration {
  const base = { kind: 'duration' as const, amount, unit, ms: amount * UNIT_MS[unit] };
  return span === undefined ? base : { ...base, span };
}

/** `1 day`, `7 days`. */
export function printDuration(d: Duration): string {
  return `${d.amount} ${d.unit}${d.amount === 1 ? '' : 's'}`;
}
