/** Shared by the history routes: the `at` parameter and its bounds, causes and events as JSON, the engine state or 503. */
import { z } from 'zod';
import type { ChangeCause, CheckpointStore, FlockEvent, StoreHandle } from '../../engine/index.ts';
import { unescapeKeys } from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';

/** The two APIs' spellings of the history errors: Profile API codes, management API types. */
export interface HistoryCodes {
  readonly outOfRetention: string;
  readonly notComputed: string;
  readonly unavailable: string;
}
export const PROFILE_CODES: HistoryCodes = { outOfRetention: 'instant_out_of_retention', notComputed: 'instant_not_computed', unavailable: 'service_unavailable' };
export const MANAGEMENT_CODES: HistoryCodes = { outOfRetention: 'instant-out-of-retention', notComputed: 'instant-not-computed', unavailable: 'unavailable' };

export function engineStore(handle: StoreHandle, codes: HistoryCodes): CheckpointStore {
  const store = handle.get();
  if (store === undefined) throw new HttpError(503, codes.unavailable, 'the engine state is not available yet', { 'Retry-After': '1' });
  return store;
}

/**
 * Checks that history answers at `t`: not before `range.from` (the retention horizon, or the start of
 * the version's history) and not after `range.to` (what the engine has computed).
 */
export function checkInstant(t: number, range: { readonly from: number; readonly to: number }, codes: HistoryCodes, field = 'at'): void {
  const iso = (x: number) => new Date(x).toISOString();
  if (t < range.from) {
    throw new HttpError(400, codes.outOfRetention, `${field} ${iso(t)} is out of retention: history answers from ${iso(range.from)}`, {}, { issues: [{ message: `history answers from ${iso(range.from)}`, field }] });
  }
  if (t > range.to) {
    const computed = Number.isFinite(range.to) ? `up to ${iso(range.to)}` : 'nothing yet';
    throw new HttpError(400, codes.notComputed, `${field} ${iso(t)} is not computed yet: the engine has computed ${computed}`, {}, { issues: [{ message: `the engine has computed ${computed}`, field }] });
  }
}

/** A cause as JSON (snake_case for the Profile API, camelCase for the management API). */
export function presentCause(cause: ChangeCause | undefined, style: 'snake' | 'camel'): Record<string, unknown> | null {
  if (cause === undefined) return null;
  const messageId = style === 'snake' ? 'message_id' : 'messageId';
  switch (cause.type) {
    case 'event':
      return { type: 'event', [messageId]: cause.messageId };
    case 'merge':
      return cause.messageId === undefined ? { type: 'merge' } : { type: 'merge', [messageId]: cause.messageId };
    case 'time':
      return { type: 'time' };
    case 'version':
      return { type: 'version', from: cause.from };
  }
}

/** An event in an explanation (the Profile API's event fields). */
export function presentEvent(e: FlockEvent): Record<string, unknown> {
  return {
    message_id: e.messageId,
    type: e.type,
    event: e.event,
    timestamp: new Date(e.timestamp).toISOString(),
    // user keys as sent (engine safe-keys.ts)
    properties: unescapeKeys(e.properties),
    traits: unescapeKeys(e.traits),
    context: unescapeKeys(e.context),
  };
}

/** Opaque keyset cursors of the Profile API's history routes: base64url JSON checked against `schema`. */
export function decodeHistoryCursor<T>(text: string, schema: z.ZodType<T>, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_request_error', `next is not a cursor of ${what}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new HttpError(400, 'invalid_request_error', `next is not a cursor of ${what}`);
  return parsed.data;
}

export function encodeHistoryCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}
