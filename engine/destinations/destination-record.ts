/**
 * What a destination and a connection are (plain data, stored in the destination store): the kind
 * and its settings, rate limits, retry policy, event names, and a connection's Segment options.
 */

export const DESTINATION_KINDS = ['webhook', 'segment', 'nats', 'list'] as const;
export type DestinationKind = (typeof DESTINATION_KINDS)[number];

/** `webhook`: Segment-shaped batches POSTed to `url`, signed with HMAC-SHA256 (`secret`). */
export interface WebhookSettings {
  readonly url: string;
  /** extra request headers (e.g. a receiver's own auth). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** `segment`: `POST <url>/v1/batch` with the write key (`secret`) as Basic auth user: Segment, RudderStack, another Flock. */
export interface SegmentSettings {
  readonly url: string;
}

/** `nats`: one message per event on `subject`; `jetstream` publishes with acks and `Nats-Msg-Id` (dedup). */
export interface NatsSettings {
  readonly url: string;
  readonly subject: string;
  readonly jetstream: boolean;
}

/** `list`: a periodic sync POSTing `{audience, added, removed}` of identifier values to `url`. */
export interface ListSettings {
  readonly url: string;
  readonly identifier: string;
  /** SHA-256 (hex) of each value, lower-cased and trimmed first. */
  readonly hashed: boolean;
  readonly periodMs: number;
  /** values per request (a later request carries the rest). */
  readonly valuesPerRequest: number;
}

export type DestinationSettings =
  | { readonly kind: 'webhook'; readonly webhook: WebhookSettings }
  | { readonly kind: 'segment'; readonly segment: SegmentSettings }
  | { readonly kind: 'nats'; readonly nats: NatsSettings }
  | { readonly kind: 'list'; readonly list: ListSettings };

/** Per-destination limits: requests per second (0: none), events and bytes per request, requests in flight. */
export interface RateLimits {
  readonly requestsPerSecond: number;
  readonly eventsPerRequest: number;
  readonly bytesPerRequest: number;
  readonly concurrency: number;
}

/** Retries: exponential backoff with full jitter between `baseMs` and `maxMs`; after `maxAttempts` a batch is dead-lettered. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
  /** this many batches dead-lettered in a row pause the destination. */
  readonly pauseAfterDeadLetters: number;
}

/** Track event names (Segment's defaults, configurable). */
export interface EventNames {
  readonly entered: string;
  readonly exited: string;
  readonly computed: string;
}

export interface DestinationRecord {
  readonly id: string;
  readonly space: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly settings: DestinationSettings;
  /** the webhook signing secret or the segment write key: stored, never shown by the API. */
  readonly secret?: string;
  /** the preset the limits came from, if any. */
  readonly preset?: string;
  readonly limits: RateLimits;
  readonly retry: RetryPolicy;
  readonly names: EventNames;
  readonly createdAt: number;
  readonly updatedAt: number;
  /** how often the API asked to resume: a pause taken at a lower count is lifted. */
  readonly resumes?: number;
}

export const ID_SYNC_STRATEGIES = ['first', 'last', 'all'] as const;
export type IdSyncStrategy = (typeof ID_SYNC_STRATEGIES)[number];

/** One identifier type to send, and which of its values (Segment's ID Sync; `all` is capped at 3 values). */
export interface IdentifierChoice {
  readonly type: string;
  readonly strategy: IdSyncStrategy;
}

export interface ConnectionRecord {
  readonly id: string;
  readonly space: string;
  readonly destinationId: string;
  readonly definitionId: string;
  /** the calls sent per change: Identify and/or Track (user level), Group (account level). */
  readonly identify: boolean;
  readonly track: boolean;
  readonly group: boolean;
  /** account-level definitions: an Identify/Track per user of the account too. */
  readonly accountUsers: boolean;
  /** the identifiers sent, one call per value (Segment's default: user_id and email, every value). */
  readonly identifiers: readonly IdentifierChoice[];
  /** anonymous ids too (one call per anonymousId). */
  readonly includeAnonymous: boolean;
  /** profile traits added to `traits` (Identify) or `properties` (Track). */
  readonly enrichTraits: readonly string[];
  /** send every current member / value first. */
  readonly backfill: boolean;
  readonly createdAt: number;
}

/** At most this many values of one identifier type with strategy `all` (Segment's ID Sync limit). */
export const MAX_ALL_VALUES = 3;

export const DEFAULT_NAMES: EventNames = { entered: 'Audience Entered', exited: 'Audience Exited', computed: 'Trait Computed' };
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 8, baseMs: 200, maxMs: 60_000, pauseAfterDeadLetters: 3 };
export const DEFAULT_LIMITS: RateLimits = { requestsPerSecond: 0, eventsPerRequest: 500, bytesPerRequest: 500_000, concurrency: 4 };
export const DEFAULT_IDENTIFIERS: readonly IdentifierChoice[] = [
  { type: 'user_id', strategy: 'all' },
  { type: 'email', strategy: 'all' },
];
export const DEFAULT_LIST_PERIOD_MS = 3_600_000;

/**
 * Segment's documented per-tool request caps (segment-surface.md §4.6), as limit presets: the
 * requests per second Engage keeps to for each tool. HubSpot makes 2 calls per object at 5 objects/s.
 */
export const LIMIT_PRESETS: Readonly<Record<string, number>> = {
  braze: 100,
  'customer.io': 30,
  hubspot: 10,
  intercom: 8,
  iterable: 500,
  mailchimp: 10,
  marketo: 5,
  'marketo-static-lists': 5,
  pardot: 2,
  resci: 200,
  responsys: 3,
  'responsys-batch': 3,
  sendgrid: 100,
  'sendgrid-lists': 100,
  salesforce: 5,
  'salesforce-marketing-cloud': 20,
  'sfmc-lists': 20,
  zendesk: 50,
};

/** The limits of `preset` over `base` (only the request rate comes from the preset). */
export function presetLimits(preset: string, base: RateLimits = DEFAULT_LIMITS): RateLimits | undefined {
  const rps = LIMIT_PRESETS[preset];
  return rps === undefined ? undefined : { ...base, requestsPerSecond: rps };
}
