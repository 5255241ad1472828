/**
 * What the Profile API's `events` and `links` routes read. The engine keeps neither yet (no
 * per-profile event index, no account links): these interfaces say exactly what it must provide,
 * and the routes answer 501 until an implementation is passed in.
 */
import type { JsonObject } from '../event/model.ts';
import type { Collection, ProfileExternalId } from './profile-locator.ts';

/** One event of a profile, as the Profile API shows it. */
export interface ProfileEvent {
  readonly messageId: string;
  readonly type: string;
  /** the track name (`Page Viewed`, `Screen Viewed` for page and screen calls); null for identify and group. */
  readonly event: string | null;
  /** event time (epoch ms). */
  readonly timestamp: number;
  readonly sourceId: string | null;
  readonly properties: JsonObject | null;
  readonly traits: JsonObject | null;
  readonly context: JsonObject | null;
  /** the identifiers the event carried. */
  readonly externalIds: readonly ProfileExternalId[];
}

export interface ProfileEventQuery {
  /** inclusive bounds on `timestamp` (epoch ms). */
  readonly start?: number;
  readonly end?: number;
  /** only these event names … */
  readonly include?: readonly string[];
  /** … or all but these. */
  readonly exclude?: readonly string[];
  readonly limit: number;
  readonly sort: 'asc' | 'desc';
  /** keyset position: the last event of the previous page (timestamp, then messageId). */
  readonly after?: { readonly timestamp: number; readonly messageId: string };
}

/**
 * A per-profile event index. The engine must write, in its checkpoint transaction, a key
 * `[space, profileId, timestamp, messageId]` per applied event (the profile after identity
 * resolution, entries moved on a merge), pointing at the event (its event-log seq or its bytes),
 * kept for at least 14 days of event time (spec §5).
 */
export interface ProfileEventIndex {
  events(space: string, profileId: string, query: ProfileEventQuery): Promise<{ readonly events: readonly ProfileEvent[]; readonly hasMore: boolean }>;
}

/** A link from a user profile to an account (or back), with the linked profile's external ids. */
export interface ProfileLink {
  readonly toCollection: Collection;
  readonly externalIds: readonly ProfileExternalId[];
}

/**
 * User ↔ account links from `group` calls. The engine must keep `[space, userProfileId, accountId]`
 * and the reverse when it resolves a group call (with the account's `group_id` external id and the
 * time it was first linked).
 */
export interface ProfileLinkIndex {
  links(space: string, collection: Collection, profileId: string, limit: number): Promise<readonly ProfileLink[]>;
}
