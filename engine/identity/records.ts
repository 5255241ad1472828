/** The identity graph's persisted records, what a checkpoint writes of it, and the read interface lookups and a restarting resolver use. */

export const IDENTITY_RECORD_VERSION = 1;

/** An identifier on a profile: type, value (lowercased), first seen (event time), first message id, source id, and the spelling sent when it differs. */
export type IdentifierTuple = [type: string, value: string, at: number, messageId: string, sourceId: string | null, raw: string | null];

/** A user ↔ account link: the account's group_id, first linked at, by message. */
export type GroupLinkTuple = [groupId: string, at: number, messageId: string];

/** One profile of the graph (one record per profile, keyed [space, profileId]). */
export interface IdentityProfileRecord {
  readonly v: number;
  /** creation order in the space: on a merge the earliest-created profile survives. */
  readonly c: number;
  /** created at (event time) and by which message. */
  readonly t: number;
  readonly m: string;
  /** profiles absorbed into this one, transitively (Segment's limit: 100). */
  readonly n: number;
  readonly ids: readonly IdentifierTuple[];
  readonly groups: readonly GroupLinkTuple[];
}

/** A merge (profiles-sync `id_graph_updates`): `from` was absorbed into `into` by an event. Chains are followed on lookup. */
export interface MergeRecord {
  readonly into: string;
  /** the triggering event's time, id and type. */
  readonly at: number;
  readonly messageId: string;
  readonly eventType: string;
}

/** An account (accounts collection, keyed by group_id): first seen. */
export interface AccountRecord {
  readonly at: number;
  readonly messageId: string;
  readonly raw: string | null;
}

/** A user of an account (keyed [space, groupId, profileId]): first linked. */
export interface AccountUserRecord {
  readonly at: number;
  readonly messageId: string;
}

/** The graph's changes since the last checkpoint, written in the checkpoint's transaction. */
export interface IdentityWrites {
  /** null record: the profile was absorbed (its record is deleted). */
  readonly profiles: ReadonlyArray<{ readonly space: string; readonly id: string; readonly record: IdentityProfileRecord | null }>;
  /** identifier → owning canonical profile. */
  readonly identifiers: ReadonlyArray<{ readonly space: string; readonly type: string; readonly value: string; readonly profileId: string }>;
  readonly merges: ReadonlyArray<{ readonly space: string; readonly from: string; readonly record: MergeRecord }>;
  readonly accounts: ReadonlyArray<{ readonly space: string; readonly groupId: string; readonly record: AccountRecord }>;
  /** null record: the link moved to the profile that absorbed this one. */
  readonly accountUsers: ReadonlyArray<{ readonly space: string; readonly groupId: string; readonly profileId: string; readonly record: AccountUserRecord | null }>;
  /** the next creation number of each space that created profiles. */
  readonly counters: ReadonlyArray<{ readonly space: string; readonly next: number }>;
}

/** Reads the persisted graph (the checkpoint store implements it; readers in other threads use a read-only store). */
export interface IdentityReader {
  identifierOwner(space: string, type: string, value: string): string | undefined;
  identityProfile(space: string, id: string): IdentityProfileRecord | undefined;
  identityMerge(space: string, id: string): MergeRecord | undefined;
  /** the next creation number of `space` (0 before its first profile). */
  identityCounter(space: string): number;
  account(space: string, groupId: string): AccountRecord | undefined;
}

/** Account → users, from the persisted graph (for the accounts issue; the resolver never needs it). */
export interface AccountUsersReader {
  accountUsers(space: string, groupId: string): Array<{ profileId: string; record: AccountUserRecord }>;
}

export class IdentityVersionError extends Error {
  constructor(readonly found: unknown) {
    super(`identity record version ${String(found)} is not readable by this build (expects ${IDENTITY_RECORD_VERSION})`);
    this.name = 'IdentityVersionError';
  }
}

/** Checks a stored profile record's version (a format change comes with a migration test). */
export function identityProfileFromPlain(plain: unknown): IdentityProfileRecord {
  const r = plain as IdentityProfileRecord;
  if (r.v !== IDENTITY_RECORD_VERSION) throw new IdentityVersionError(r.v);
  return r;
}

export function emptyIdentityWrites(): IdentityWrites {
  return { profiles: [], identifiers: [], merges: [], accounts: [], accountUsers: [], counters: [] };
}
