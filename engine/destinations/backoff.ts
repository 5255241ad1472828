/** How long to wait before retrying a failed request: exponential backoff with full jitter, or the receiver's `Retry-After` when it sent one. */
import type { RetryPolicy } from './destination-record.ts';

/**
 * The delay before attempt `attempt + 1` (attempt ≥ 1 failed): a uniform draw in
 * [0, min(maxMs, baseMs · 2^(attempt−1))] ("full jitter"), at least `retryAfterMs` when the
 * receiver asked for it (capped at maxMs). `random` is in [0, 1).
 */
export function retryDelay(policy: Pick<RetryPolicy, 'baseMs' | 'maxMs'>, attempt: number, retryAfterMs: number | undefined, random: number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.floor(random * ceiling);
  return retryAfterMs === undefined ? jittered : Math.min(policy.maxMs, Math.max(retryAfterMs, jittered));
}

/** `Retry-After` in ms: delta-seconds or an HTTP date (relative to `now`); undefined when absent or unreadable. */
export function parseRetryAfter(header: string | null | undefined, now: number): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}
