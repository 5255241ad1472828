/** Per-space token buckets for ingest: events per second with a burst, answered with how long to wait. */

export interface RateLimitConfig {
  /** tokens (events) added per second; 0 turns the limit off. */
  readonly eventsPerSecond: number;
  /** bucket size: the most events accepted at once after a quiet period. */
  readonly burst: number;
}

export interface Bucket {
  tokens: number;
  /** epoch ms of the last refill. */
  updatedAt: number;
}

export type Admission = { readonly ok: true } | { readonly ok: false; readonly retryAfterMs: number };

/**
 * Takes `cost` tokens if the bucket holds enough. A request larger than the whole burst is admitted
 * once the bucket is full and leaves it in debt, so a 2,500-event batch is never refused forever by
 * a smaller burst; the debt is repaid at the refill rate before anything else gets through.
 */
export function take(bucket: Bucket, cost: number, now: number, config: RateLimitConfig): Admission {
  const elapsed = Math.max(0, now - bucket.updatedAt);
  bucket.tokens = Math.min(config.burst, bucket.tokens + (elapsed * config.eventsPerSecond) / 1000);
  bucket.updatedAt = now;
  const needed = Math.min(cost, config.burst);
  if (bucket.tokens >= needed) {
    bucket.tokens -= cost;
    return { ok: true };
  }
  return { ok: false, retryAfterMs: Math.ceil(((needed - bucket.tokens) * 1000) / config.eventsPerSecond) };
}

/** One bucket per space, created full on first use. */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(private readonly config: RateLimitConfig) {}

  admit(space: string, cost: number, now: number): Admission {
    if (this.config.eventsPerSecond <= 0) return { ok: true };
    let bucket = this.#buckets.get(space);
    if (bucket === undefined) {
      bucket = { tokens: this.config.burst, updatedAt: now };
      this.#buckets.set(space, bucket);
    }
    return take(bucket, cost, now, this.config);
  }
}
