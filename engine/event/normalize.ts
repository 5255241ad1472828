/** Turns one raw Segment call into a FlockEvent: validation, page/screen naming, clock-skew correction, message ids. */
import { randomUUID } from 'node:crypto';
import type { EventType, FlockEvent, JsonObject } from './model.ts';
import type { Rejection } from './rejection.ts';
import { escapeKeys } from './safe-keys.ts';
import { eventTypeSchema, isJsonObject, parseCall, rejectionFromIssues, type Call } from './schema.ts';

/** What the receiving side knows about a call: where it goes and when it arrived. */
export interface NormalizeMeta {
  readonly space: string;
  /** epoch ms at which Flock accepted the request. */
  readonly receivedAt: number;
  readonly sourceId: string | null;
  /** makes the id of a call sent without `messageId`; defaults to `flock-<uuid>`. */
  readonly newMessageId?: () => string;
  /**
   * Refuses an event the engine would not apply (the service passes identity's `unidentified` with
   * the space's rules), so what is accepted is what is applied.
   */
  readonly refuse?: (event: FlockEvent) => Rejection | null;
}

/** A batch's top-level fields that every item inherits (the item's own values win). */
export interface Inherited {
  readonly context: JsonObject | null;
  readonly integrations: JsonObject | null;
  /** epoch ms. */
  readonly sentAt: number | null;
}

export type NormalizeResult =
  | { readonly ok: true; readonly event: FlockEvent }
  | { readonly ok: false; readonly rejection: Rejection };

export const PAGE_EVENT = 'Page Viewed';
export const SCREEN_EVENT = 'Screen Viewed';

const newFlockMessageId = (): string => `flock-${randomUUID()}`;

/**
 * Validates and normalises one call. `type` comes from the URL on the single-call paths (it wins
 * over the body's `type`); pass `undefined` for batch items, whose own `type` decides.
 */
export function normalizeCall(
  type: EventType | undefined,
  raw: unknown,
  meta: NormalizeMeta,
  inherited?: Inherited,
): NormalizeResult {
  let callType = type;
  if (callType === undefined) {
    if (!isJsonObject(raw)) return { ok: false, rejection: { code: 'invalid_event', message: 'a call must be a JSON object' } };
    const parsedType = eventTypeSchema.safeParse(raw['type']);
    if (!parsedType.success) {
      return { ok: false, rejection: { ...rejectionFromIssues(parsedType.error.issues), code: 'invalid_type' } };
    }
    callType = parsedType.data;
  }
  const parsed = parseCall(callType, raw);
  if (!parsed.ok) return parsed;
  const event = toFlockEvent(parsed.value, meta, inherited);
  const refused = meta.refuse?.(event) ?? null;
  return refused === null ? { ok: true, event } : { ok: false, rejection: refused };
}

function toFlockEvent(parsed: Call, meta: NormalizeMeta, inherited: Inherited | undefined): FlockEvent {
  const { call } = parsed;
  const sentAt = call.sentAt ?? inherited?.sentAt ?? null;
  return {
    space: meta.space,
    type: parsed.type,
    event: eventName(parsed),
    messageId: call.messageId ?? (meta.newMessageId ?? newFlockMessageId)(),
    userId: call.userId,
    anonymousId: call.anonymousId,
    groupId: parsed.type === 'group' ? parsed.call.groupId : null,
    previousId: parsed.type === 'alias' ? parsed.call.previousId : null,
    // user keys in their stored spelling (safe-keys.ts): `__proto__` and `constructor` survive msgpackr
    traits: escapeKeys(call.traits),
    properties: escapeKeys(properties(parsed)),
    context: escapeKeys(merge(inherited?.context ?? null, call.context)),
    integrations: escapeKeys(merge(inherited?.integrations ?? null, call.integrations)),
    timestamp: eventTime(call.timestamp, call.originalTimestamp, sentAt, meta.receivedAt),
    receivedAt: meta.receivedAt,
    sourceId: meta.sourceId,
  };
}

function eventName(parsed: Call): string | null {
  switch (parsed.type) {
    case 'track':
      return parsed.call.event;
    case 'page':
      return PAGE_EVENT;
    case 'screen':
      return SCREEN_EVENT;
    default:
      return null;
  }
}

/** page and screen calls carry their name as a property so `event('Page Viewed').where(…)` can see it. */
function properties(parsed: Call): JsonObject | null {
  if (parsed.type === 'page') {
    const { name, category } = parsed.call;
    return {
      ...parsed.call.properties,
      ...(name !== null ? { page_name: name } : {}),
      ...(category !== null ? { page_category: category } : {}),
    };
  }
  if (parsed.type === 'screen') {
    const { name } = parsed.call;
    return { ...parsed.call.properties, ...(name !== null ? { screen_name: name } : {}) };
  }
  return parsed.call.properties;
}

/** Shallow merge, item keys winning; spread (not Object.assign) so a `__proto__` key stays plain data. */
function merge(outer: JsonObject | null, inner: JsonObject | null): JsonObject | null {
  if (outer === null) return inner;
  if (inner === null) return outer;
  return { ...outer, ...inner };
}

/**
 * Segment's clock-skew correction: the client's clock may be wrong, but the gap between creating a
 * call (`originalTimestamp`, else the client-set `timestamp`) and sending it (`sentAt`) is right, so
 * the event happened that long before Flock received it. Without `sentAt` a given `timestamp` is
 * taken as is (server libraries back-filling history), and with nothing the receipt time is used.
 */
export function eventTime(
  timestamp: number | null,
  originalTimestamp: number | null,
  sentAt: number | null,
  receivedAt: number,
): number {
  const original = originalTimestamp ?? timestamp;
  if (sentAt !== null && original !== null) return receivedAt - (sentAt - original);
  return timestamp ?? originalTimestamp ?? receivedAt;
}
