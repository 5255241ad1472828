/**
 * Sends a destination's messages: split into lanes by profile (one lane per allowed request in
 * flight, so a profile's messages stay in order), each lane in batches, each batch retried with
 * backoff and jitter until delivered or dead-lettered. A destination that dead-letters too many
 * batches in a row is paused (DeliveryPaused), and a stop aborts between attempts (DeliveryStopped):
 * either way the caller keeps its cursor, so nothing is lost.
 */
import { retryDelay } from './backoff.ts';
import { splitBatches } from './batches.ts';
import type { DestinationRecord } from './destination-record.ts';
import type { DeadLetter } from './destination-store.ts';
import type { RequestPacer } from './request-pacer.ts';
import type { Outbound } from './segment-messages.ts';
import type { EncodedMessage, SendResult, Transport } from './transport.ts';

export class DeliveryPaused extends Error {
  constructor(readonly reason: string) {
    super(`destination paused: ${reason}`);
    this.name = 'DeliveryPaused';
  }
}

export class DeliveryStopped extends Error {
  constructor() {
    super('delivery stopped');
    this.name = 'DeliveryStopped';
  }
}

/** Counters the lanes keep (the runner persists them as the destination's status). */
export interface DeliveryCounters {
  delivered: number;
  failed: number;
  retrying: number;
  requests: number;
  /** batches dead-lettered since the last delivered one. */
  deadInARow: number;
  lastError: { message: string; at: number } | null;
}

export interface LaneDeps {
  readonly transport: Transport;
  readonly pacer: RequestPacer;
  readonly counters: DeliveryCounters;
  readonly signal: AbortSignal;
  readonly clock: () => number;
  readonly random: () => number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly deadLetter: (letter: Omit<DeadLetter, 'id'>) => Promise<unknown>;
  /** told of a change worth persisting soon (retrying counts). */
  readonly onProgress: () => void;
}

/** Sends `outbound` with the destination's limits and retry policy; resolves once every batch is delivered or dead-lettered. */
export async function deliver(destination: DestinationRecord, outbound: readonly Outbound[], deps: LaneDeps): Promise<void> {
  if (outbound.length === 0) return;
  const laneCount = Math.max(1, destination.limits.concurrency);
  const lanes: EncodedMessage[][] = Array.from({ length: laneCount }, () => []);
  for (const o of outbound) lanes[laneCount === 1 ? 0 : laneOf(o.profileId, laneCount)]!.push({ messageId: o.message.messageId, json: JSON.stringify(o.message) });
  await Promise.all(
    lanes.map(async (lane) => {
      for (const batch of splitBatches(lane, destination.limits.eventsPerRequest, destination.limits.bytesPerRequest, (m) => m.json.length)) {
        await sendBatch(destination, batch, deps);
      }
    }),
  );
}

/** One batch, attempt after attempt; `count`: the events it carries (a list request: its values). True: delivered; false: dead-lettered. */
export async function sendBatch(
  destination: DestinationRecord,
  batch: readonly EncodedMessage[],
  deps: LaneDeps,
  send: () => Promise<SendResult> = () => deps.transport.send(batch),
  count: number = batch.length,
): Promise<boolean> {
  const c = deps.counters;
  for (let attempt = 1; ; attempt++) {
    if (deps.signal.aborted) throw new DeliveryStopped();
    await deps.pacer.take();
    c.requests++;
    const result = await send();
    if (result.ok) {
      c.delivered += count;
      c.deadInARow = 0;
      return true;
    }
    c.lastError = { message: result.error, at: deps.clock() };
    if (!result.retry || attempt >= destination.retry.maxAttempts) {
      await deps.deadLetter({ destinationId: destination.id, messages: batch.map((m) => JSON.parse(m.json) as unknown), error: result.error, attempts: attempt, at: deps.clock() });
      c.failed += count;
      c.deadInARow++;
      deps.onProgress();
      if (c.deadInARow >= destination.retry.pauseAfterDeadLetters) {
        throw new DeliveryPaused(`${c.deadInARow} batches in a row failed ${attempt} attempt(s); last: ${result.error}`);
      }
      return false;
    }
    c.retrying += count;
    deps.onProgress();
    try {
      await deps.sleep(retryDelay(destination.retry, attempt, result.retryAfterMs, deps.random()), deps.signal);
    } finally {
      c.retrying -= count;
    }
  }
}

/** FNV-1a of the profile id, modulo the lanes. */
function laneOf(profileId: string, lanes: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < profileId.length; i++) h = Math.imul(h ^ profileId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % lanes;
}
