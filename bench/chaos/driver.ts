/**
 * The load driver: sends the workload's batches to `/v1/batch` with Segment's client behaviour — a
 * failed request (network error, 5xx, 429) is retried with the same body (same messageIds) after a
 * growing backoff, for as long as it takes — and records which events were acknowledged.
 */
import type { SegmentCall } from './workload.ts';

export interface DriverOptions {
  /** where Flock listens now (it changes across restarts: a function). */
  readonly url: () => string | undefined;
  readonly writeKey: string;
  /** requests in flight at once. */
  readonly concurrency: number;
  /** rewrites each call once, when its batch is first sent (e.g. a timestamp from the clock); retries send the same. */
  readonly stamp?: (call: SegmentCall) => SegmentCall;
  /** each sender waits this long after each acknowledged batch (a steadier, slower load). */
  readonly paceMs?: number;
  /** called after each acknowledged batch with the running count of acknowledged events; a promise it returns holds every sender until it settles. */
  readonly onAcked?: (acked: number) => Promise<void> | void;
  readonly signal?: AbortSignal;
}

export interface DriverResult {
  /** messageIds the API acknowledged (HTTP 200, not in `rejected`). */
  readonly acked: Set<string>;
  /** messageIds the API rejected as invalid (a workload mistake: should be none). */
  readonly rejected: string[];
  readonly requests: number;
  readonly retries: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends every batch (in order of start; up to `concurrency` in flight) until each is acknowledged. */
export async function drive(batches: readonly (readonly SegmentCall[])[], o: DriverOptions): Promise<DriverResult> {
  const acked = new Set<string>();
  const rejected: string[] = [];
  let requests = 0;
  let retries = 0;
  let next = 0;
  const auth = `Basic ${Buffer.from(`${o.writeKey}:`).toString('base64')}`;
  const send = async (batch: readonly SegmentCall[]): Promise<void> => {
    const body = JSON.stringify({ batch: o.stamp === undefined ? batch : batch.map(o.stamp) });
    for (let attempt = 0; ; attempt++) {
      if (o.signal?.aborted === true) throw new Error('load driver stopped');
      const url = o.url();
      if (url !== undefined) {
        requests++;
        try {
          const response = await fetch(`${url}/v1/batch`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body, signal: AbortSignal.timeout(30_000) });
          const text = await response.text();
          if (response.ok) {
            const answer = JSON.parse(text) as { rejected?: Array<{ messageId?: string; index?: number }> };
            const bad = new Set((answer.rejected ?? []).map((r) => r.messageId ?? batch[r.index ?? -1]?.messageId));
            for (const call of batch) if (!bad.has(call.messageId)) acked.add(call.messageId);
            for (const id of bad) if (id !== undefined) rejected.push(id);
            return;
          }
          // 4xx other than 429 is the workload's fault: retrying cannot help
          if (response.status < 500 && response.status !== 429) throw new Error(`/v1/batch answered ${response.status}: ${text}`);
        } catch (error) {
          if (error instanceof Error && error.message.startsWith('/v1/batch answered')) throw error;
          // (a network error: Flock is down or restarting — retry)
        }
      }
      retries++;
      // Segment's libraries: exponential backoff with jitter, capped
      await sleep(Math.min(1_000, 25 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2));
    }
  };
  let gate: Promise<void> | void = undefined;
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      await gate;
      const batch = batches[next++]!;
      await send(batch);
      const hold = o.onAcked?.(acked.size);
      if (hold !== undefined) await (gate = hold);
      if (o.paceMs !== undefined && o.paceMs > 0) await sleep(o.paceMs);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return { acked, rejected, requests, retries };
}
