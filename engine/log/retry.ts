/**
 * Riding out an unreachable log: retries an operation with capped exponential backoff and jitter for
 * as long as it fails with a retryable error, until it succeeds or the caller stops.
 */
import { LogAppendError, LogCommitError, LogReadError } from './log-errors.ts';

export interface BackoffPolicy {
  /** first delay (ms). */
  readonly baseMs: number;
  /** longest delay (ms). */
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 100, maxMs: 5_000 };

/**
 * The delay before retry `attempt` (0-based): `baseMs · 2^attempt` capped at `maxMs`, then "equal
 * jitter" — half fixed, half random — so many waiters do not retry in lockstep yet never retry at once.
 */
export function backoffDelay(attempt: number, random: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + (ceiling / 2) * random;
}

/**
 * Log failures worth waiting out: the server is unreachable or restarting (append, commit, read).
 * Not: a closed log, a structure conflict, a corrupt record — retrying cannot fix those.
 */
export function isTransientLogError(error: unknown): boolean {
  return error instanceof LogAppendError || error instanceof LogCommitError || error instanceof LogReadError;
}

/** A retry loop ended because its caller stopped (the `signal` aborted) before the operation succeeded. */
export class RetryAbortedError extends Error {
  constructor(what: string, options: { cause: unknown }) {
    super(`${what}: stopped while retrying`, options);
    this.name = 'RetryAbortedError';
  }
}

export interface RetryOptions {
  /** names the operation in errors. */
  readonly what: string;
  /** which failures are retried; any other is thrown at once. */
  readonly retryable: (error: unknown) => boolean;
  /** after each failed attempt, before waiting `delayMs`. */
  readonly onFailure?: (error: unknown, attempt: number, delayMs: number) => void;
  /** after a success that followed failures. */
  readonly onRecovery?: () => void;
  /** stops the waiting: the loop throws RetryAbortedError with the last failure as cause. */
  readonly signal?: AbortSignal | undefined;
  readonly policy?: BackoffPolicy;
  readonly random?: () => number;
}

/** Runs `operation` until it succeeds; between failures waits `backoffDelay`. Never gives up on its own. */
export async function retrying<T>(operation: () => Promise<T>, options: RetryOptions): Promise<T> {
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await operation();
      if (attempt > 0) options.onRecovery?.();
      return result;
    } catch (error) {
      if (!options.retryable(error)) throw error;
      if (isAborted(options.signal)) throw new RetryAbortedError(options.what, { cause: error });
      const delay = backoffDelay(attempt, random(), options.policy);
      options.onFailure?.(error, attempt, delay);
      await sleep(delay, options.signal);
      if (isAborted(options.signal)) throw new RetryAbortedError(options.what, { cause: error });
    }
  }
}

/** a function, so TypeScript does not narrow `aborted` across awaits */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
