/** Why a tracking call was not accepted: data with a stable code, never an exception. */

export const REJECTION_CODES = [
  /** neither `userId` nor `anonymousId` (Segment's own code). */
  'no_user_anon_id',
  /** a track call without a non-empty `event` name. */
  'missing_event',
  /** a group call without a non-empty `groupId`. */
  'missing_group_id',
  /** a `groupId` over 500 characters (Segment drops these). */
  'group_id_too_long',
  /** an alias call without a non-empty `previousId`. */
  'missing_previous_id',
  /** `timestamp`, `sentAt` or `originalTimestamp` is not an ISO-8601 date-time. */
  'invalid_timestamp',
  /** `messageId` is not a string or is 100 characters or longer. */
  'invalid_message_id',
  /** `userId` / `anonymousId` / `previousId` is neither a string nor a number. */
  'invalid_id',
  /** `userId` or `anonymousId` over 500 characters: the engine would not identify anybody by it. */
  'id_too_long',
  /** every identifier of the call is blocked or disabled by the space's identity rules (e.g. `userId: "null"` alone). */
  'blocked_identifier',
  /** `context`, `integrations`, `properties` or `traits` is not a JSON object. */
  'invalid_field',
  /** an identify call with 300 traits or more. */
  'too_many_traits',
  /** more than 300 properties. */
  'too_many_properties',
  /** `type` is missing or not one of track, identify, page, screen, group, alias. */
  'invalid_type',
  /** the call is not a JSON object. */
  'invalid_event',
  /** one call over 32 KB of JSON. */
  'event_too_large',
  /** a batch item past the 2,500th. */
  'batch_too_large',
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

export interface Rejection {
  readonly code: RejectionCode;
  readonly message: string;
}
