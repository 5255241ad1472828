/** Normalises a `/v1/batch` body: inherited top-level fields, per-item rejections, the size and count limits. */
import type { FlockEvent } from './model.ts';
import { MAX_BATCH_EVENTS, MAX_EVENT_BYTES } from './limits.ts';
import { normalizeCall, type NormalizeMeta } from './normalize.ts';
import type { Rejection } from './rejection.ts';
import { batchSchema, rejectionFromIssues } from './schema.ts';

export interface BatchRejection extends Rejection {
  /** position of the item in the request's `batch` array. */
  readonly index: number;
}

export type BatchResult =
  | { readonly ok: true; readonly events: FlockEvent[]; readonly rejected: BatchRejection[] }
  /** the envelope itself is unusable (no `batch` array, a bad top-level `sentAt` …): nothing is kept. */
  | { readonly ok: false; readonly rejection: Rejection };

export interface BatchOptions {
  /**
   * Size of the request body in bytes. An item can only be over the per-event limit when the whole
   * body is, so below it the items are not re-serialised to be measured.
   */
  readonly bodyBytes?: number;
  /**
   * Size of each item as sent, in bytes, when the caller measured them (the HTTP layer does, in the
   * scan it makes anyway); otherwise items are re-serialised to be measured. Ignored unless there is
   * exactly one size per item.
   */
  readonly itemBytes?: readonly number[] | null;
}

/**
 * Valid items are kept, invalid ones listed with their index. Segment answers a batch of more than
 * 2,500 items with success but drops the excess: the first 2,500 are kept and the rest rejected
 * with `batch_too_large`.
 */
export function normalizeBatch(body: unknown, meta: NormalizeMeta, options: BatchOptions = {}): BatchResult {
  const envelope = batchSchema.safeParse(body);
  if (!envelope.success) {
    const rejection = rejectionFromIssues(envelope.error.issues);
    // the envelope has no `event` or ids: only its timestamp has a code of its own.
    return { ok: false, rejection: rejection.code === 'invalid_timestamp' ? rejection : { ...rejection, code: 'invalid_event' } };
  }
  const { batch, context, integrations, sentAt } = envelope.data;
  const inherited = { context, integrations, sentAt };
  const measure = options.bodyBytes === undefined || options.bodyBytes > MAX_EVENT_BYTES;
  const sizes = options.itemBytes?.length === batch.length ? options.itemBytes : null;
  const events: FlockEvent[] = [];
  const rejected: BatchRejection[] = [];
  for (let index = 0; index < batch.length; index++) {
    if (index >= MAX_BATCH_EVENTS) {
      rejected.push({
        index,
        code: 'batch_too_large',
        message: `a batch keeps at most ${MAX_BATCH_EVENTS} events`,
      });
      continue;
    }
    const item = batch[index];
    if (measure && (sizes?.[index] ?? jsonBytes(item)) > MAX_EVENT_BYTES) {
      rejected.push({ index, code: 'event_too_large', message: `an event must be at most ${MAX_EVENT_BYTES} bytes of JSON` });
      continue;
    }
    const result = normalizeCall(undefined, item, meta, inherited);
    if (result.ok) events.push(result.event);
    else rejected.push({ index, ...result.rejection });
  }
  return { ok: true, events, rejected };
}

/** UTF-8 size of a value's JSON. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
}
