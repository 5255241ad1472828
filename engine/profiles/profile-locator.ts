/**
 * Finds the profile a Profile API identifier names, and lists a profile's external ids. One small
 * interface, so identity resolution replaces today's direct mapping with a one-line switch.
 */

export type Collection = 'users' | 'accounts';

/** An identifier of a profile (Profile API `external_ids`). */
export interface ProfileExternalId {
  readonly type: string;
  readonly id: string;
  readonly collection: Collection;
  readonly encoding: 'none';
  /** when the profile first had it (epoch ms). */
  readonly createdAt: number;
  readonly sourceId?: string | null;
  readonly firstMessageId?: string;
}

export type LocateResult =
  | { readonly ok: true; readonly profileId: string }
  | { readonly ok: false; readonly code: 'invalid_identifier' | 'not_found'; readonly message: string };

export interface ProfileLocator {
  /**
   * The canonical profile id for `identifier` (`<type>:<value>`, e.g. `user_id:alice`, or a
   * canonical id), already percent-decoded, in a collection. It need not read the profile's state:
   * a located id may still have none (the caller answers 404).
   */
  locate(space: string, collection: Collection, identifier: string): LocateResult;
  /** The profile's external ids, given what the engine keeps of it. */
  externalIds(space: string, collection: Collection, profile: { readonly id: string; readonly firstSeen: number }): readonly ProfileExternalId[];
}

/**
 * What the Profile API's routes find profiles with: a `ProfileLocator` (its answers at hand), or one
 * whose answers come from another process — the API role asks the identity stage's owner
 * (engine/cluster/remote-profiles.ts).
 */
export interface ProfileFinder {
  locate(space: string, collection: Collection, identifier: string): LocateResult | Promise<LocateResult>;
  externalIds(space: string, collection: Collection, profile: { readonly id: string; readonly firstSeen: number }): readonly ProfileExternalId[] | Promise<readonly ProfileExternalId[]>;
}

const NOT_FOUND: LocateResult = { ok: false, code: 'not_found', message: 'Profile was not found.' };

/** `<type>:<value>` split at the first colon; undefined when there is no colon or either side is empty. */
function split(identifier: string): { readonly type: string; readonly value: string } | undefined {
  const colon = identifier.indexOf(':');
  if (colon <= 0 || colon === identifier.length - 1) return undefined;
  return { type: identifier.slice(0, colon), value: identifier.slice(colon + 1) };
}

/** The identifier types today's engine keys profiles by (engine/identity DirectResolver). */
export const DIRECT_ID_TYPES: ReadonlySet<string> = new Set(['user_id', 'anonymous_id']);

/**
 * Today's engine keys a user profile by `user_id:<id>`, else `anonymous_id:<id>` (no linking, no
 * accounts), so the identifier is the profile id and the profile's one external id is in its id.
 */
export const directProfileLocator: ProfileLocator = {
  locate(_space, collection, identifier) {
    const parsed = split(identifier);
    if (parsed === undefined) return { ok: false, code: 'invalid_identifier', message: `"${identifier}" is not <type>:<value>` };
    if (collection !== 'users' || !DIRECT_ID_TYPES.has(parsed.type)) return NOT_FOUND;
    return { ok: true, profileId: identifier };
  },
  externalIds(_space, collection, profile) {
    const parsed = split(profile.id);
    if (parsed === undefined || !DIRECT_ID_TYPES.has(parsed.type)) return [];
    return [{ type: parsed.type, id: parsed.value, collection, encoding: 'none', createdAt: profile.firstSeen }];
  },
};
