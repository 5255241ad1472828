/** Zod schemas of the Segment tracking API calls and batch (spec §9.3): lenient where real clients are, strict where Segment is. */
import { z } from 'zod';
import { EVENT_TYPES, type EventType, type JsonObject } from './model.ts';
import { parseIsoTimestamp } from './iso-timestamp.ts';
import {
  MAX_GROUP_ID_LENGTH,
  MAX_IDENTIFIER_LENGTH,
  MAX_MESSAGE_ID_LENGTH,
  MAX_PROPERTIES,
  MAX_TRAITS,
} from './limits.ts';
import { REJECTION_CODES, type Rejection, type RejectionCode } from './rejection.ts';

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `context`, `properties`, … — any JSON object; `null` reads as absent. */
const jsonObject = z
  .custom<JsonObject>(isJsonObject, { error: 'must be a JSON object' })
  .nullish()
  .transform((value) => value ?? null);

/**
 * Ids as strings. Numbers are accepted (several server libraries send numeric user ids) and `''`
 * reads as absent, because analytics-kotlin sends `"userId": ""` before identify.
 */
const id = z
  .union([z.string(), z.number()], { error: 'must be a string' })
  .nullish()
  .transform((value) => (value === undefined || value === null || value === '' ? null : String(value)));

/** Optional free text (`name`, `category`). */
const text = z
  .union([z.string(), z.number()], { error: 'must be a string' })
  .nullish()
  .transform((value) => (value === undefined || value === null ? null : String(value)));

/** An ISO-8601 string (or a Date, for in-process callers) → epoch milliseconds; absent → null. */
const timestamp = z
  .union([z.string(), z.date()], { error: 'must be an ISO-8601 date-time string' })
  .nullish()
  .transform((value, ctx) => {
    if (value === undefined || value === null) return null;
    const ms = typeof value === 'string' ? parseIsoTimestamp(value) : value.getTime();
    if (ms === null || Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', input: value, message: `"${String(value)}" is not an ISO-8601 date-time` });
      return z.NEVER;
    }
    return ms;
  });

const messageId = id.refine((value) => value === null || value.length <= MAX_MESSAGE_ID_LENGTH, {
  error: `messageId must be shorter than ${MAX_MESSAGE_ID_LENGTH + 1} characters`,
});

const traits = jsonObject.refine((value) => value === null || Object.keys(value).length <= MAX_TRAITS, {
  error: `${MAX_TRAITS + 1} traits or more are not accepted`,
  params: { code: 'too_many_traits' },
});

const properties = jsonObject.refine(
  (value) => value === null || Object.keys(value).length <= MAX_PROPERTIES,
  { error: `more than ${MAX_PROPERTIES} properties are not accepted`, params: { code: 'too_many_properties' } },
);

/** `userId` and `anonymousId`: longer than identity resolution takes (MAX_IDENTIFIER_LENGTH), the engine could not apply the call. */
const identifying = id.refine((value) => value === null || value.length <= MAX_IDENTIFIER_LENGTH, {
  error: `must be at most ${MAX_IDENTIFIER_LENGTH} characters`,
  params: { code: 'id_too_long' },
});

/** Fields every call may carry. Unknown fields (`_metadata`, `writeKey`, `version`, `channel` …) are allowed and ignored. */
const common = {
  messageId,
  userId: identifying,
  anonymousId: identifying,
  context: jsonObject,
  integrations: jsonObject,
  traits,
  properties,
  timestamp,
  originalTimestamp: timestamp,
  sentAt: timestamp,
};

const usableId = (value: unknown): boolean => (typeof value === 'string' && value !== '') || typeof value === 'number';
/** Reads the raw values: it also runs when other fields failed (see `when` below). */
const identified = (call: { readonly userId: unknown; readonly anonymousId: unknown }): boolean =>
  usableId(call.userId) || usableId(call.anonymousId);
const noIdentity = {
  error: 'a call needs a userId or an anonymousId',
  params: { code: 'no_user_anon_id' },
  // run even when a field failed, so a call with no ids is always answered `no_user_anon_id`.
  when: () => true,
} as const;

const required = (field: string, code: RejectionCode) => ({
  error: `"${field}" is required`,
  params: { code },
});

export const trackCallSchema = z
  .looseObject({
    ...common,
    event: z
      .string({ error: 'track calls need an "event" name' })
      .min(1, { error: 'track calls need a non-empty "event" name' }),
  })
  .refine(identified, noIdentity);

export const identifyCallSchema = z.looseObject(common).refine(identified, noIdentity);

export const pageCallSchema = z
  .looseObject({ ...common, name: text, category: text })
  .refine(identified, noIdentity);

export const screenCallSchema = z
  .looseObject({ ...common, name: text, category: text })
  .refine(identified, noIdentity);

export const groupCallSchema = z
  .looseObject({
    ...common,
    groupId: id
      .refine((value) => value !== null, required('groupId', 'missing_group_id'))
      .refine((value) => value === null || value.length <= MAX_GROUP_ID_LENGTH, {
        error: `groupId must be at most ${MAX_GROUP_ID_LENGTH} characters`,
        params: { code: 'group_id_too_long' },
      }),
  })
  .refine(identified, noIdentity);

export const aliasCallSchema = z
  .looseObject({
    ...common,
    previousId: id.refine((value) => value !== null, required('previousId', 'missing_previous_id')),
  })
  .refine(identified, noIdentity);

export const CALL_SCHEMAS = {
  track: trackCallSchema,
  identify: identifyCallSchema,
  page: pageCallSchema,
  screen: screenCallSchema,
  group: groupCallSchema,
  alias: aliasCallSchema,
} as const satisfies Record<EventType, z.ZodType>;

export type TrackCall = z.output<typeof trackCallSchema>;
export type IdentifyCall = z.output<typeof identifyCallSchema>;
export type PageCall = z.output<typeof pageCallSchema>;
export type ScreenCall = z.output<typeof screenCallSchema>;
export type GroupCall = z.output<typeof groupCallSchema>;
export type AliasCall = z.output<typeof aliasCallSchema>;

/** A parsed call, tagged with its type. */
export type Call =
  | { readonly type: 'track'; readonly call: TrackCall }
  | { readonly type: 'identify'; readonly call: IdentifyCall }
  | { readonly type: 'page'; readonly call: PageCall }
  | { readonly type: 'screen'; readonly call: ScreenCall }
  | { readonly type: 'group'; readonly call: GroupCall }
  | { readonly type: 'alias'; readonly call: AliasCall };

/** A batch item's `type`; case is ignored (`"Track"` is a track). */
export const eventTypeSchema = z
  .string({ error: 'a batch item needs a "type"' })
  .transform((value) => value.toLowerCase())
  .pipe(z.enum(EVENT_TYPES, { error: `"type" must be one of ${EVENT_TYPES.join(', ')}` }));

/** `/v1/batch` and `/v1/b`: top-level `context`, `integrations` and `sentAt` apply to every item. */
export const batchSchema = z.looseObject({
  batch: z.array(z.unknown(), { error: '"batch" must be an array of calls' }),
  context: jsonObject,
  integrations: jsonObject,
  sentAt: timestamp,
});
export type Batch = z.output<typeof batchSchema>;

/** Which rejection a built-in zod issue on a top-level field means (custom issues carry their own code). */
const FIELD_CODES: Readonly<Record<string, RejectionCode>> = {
  type: 'invalid_type',
  messageId: 'invalid_message_id',
  userId: 'invalid_id',
  anonymousId: 'invalid_id',
  previousId: 'invalid_id',
  groupId: 'invalid_id',
  event: 'missing_event',
  timestamp: 'invalid_timestamp',
  originalTimestamp: 'invalid_timestamp',
  sentAt: 'invalid_timestamp',
};

const priority = (code: RejectionCode): number => REJECTION_CODES.indexOf(code);

/**
 * Turns zod issues into one rejection. When a call has several problems the code earliest in
 * REJECTION_CODES wins, so the answer does not depend on zod's checking order.
 */
export function rejectionFromIssues(issues: readonly z.core.$ZodIssue[]): Rejection {
  let best: Rejection | null = null;
  for (const issue of issues) {
    const code = issueCode(issue);
    if (best === null || priority(code) < priority(best.code)) {
      const field = issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
      best = { code, message: `${field}${issue.message}` };
    }
  }
  return best ?? { code: 'invalid_event', message: 'the call is not valid' };
}

function issueCode(issue: z.core.$ZodIssue): RejectionCode {
  if (issue.code === 'custom') {
    const code: unknown = issue.params?.['code'];
    if (typeof code === 'string' && (REJECTION_CODES as readonly string[]).includes(code)) {
      return code as RejectionCode;
    }
  }
  const field = issue.path[0];
  if (typeof field === 'string') return FIELD_CODES[field] ?? 'invalid_field';
  return 'invalid_event';
}

/** Parses one call of a known type. */
export function parseCall(
  type: EventType,
  raw: unknown,
): { readonly ok: true; readonly value: Call } | { readonly ok: false; readonly rejection: Rejection } {
  if (!isJsonObject(raw)) return { ok: false, rejection: { code: 'invalid_event', message: 'a call must be a JSON object' } };
  const result = CALL_SCHEMAS[type].safeParse(raw);
  if (!result.success) return { ok: false, rejection: rejectionFromIssues(result.error.issues) };
  return { ok: true, value: { type, call: result.data } as Call };
}
