/**
 * The Profile API over the identity graph the engine checkpoints (engine/identity): `type:value` and
 * `use_…` ids (merged-away ones included) find the canonical profile; external ids and account links
 * come from the graph's profile record.
 */
import { lookupProfile, profileExternalIds } from '../identity/lookup.ts';
import type { ProfileLocator } from './profile-locator.ts';
import { ProfileStoreUnavailableError } from './profile-reader.ts';
import type { ProfileLinkIndex } from './profile-sources.ts';
import type { StoreHandle } from './store-handle.ts';

export function identityProfileLocator(store: StoreHandle): ProfileLocator {
  const reader = () => {
    const s = store.get();
    if (s === undefined) throw new ProfileStoreUnavailableError();
    return s;
  };
  return {
    locate(space, collection, identifier) {
      // accounts have no profile state of their own yet (their traits are not kept)
      if (collection !== 'users') return { ok: false, code: 'not_found', message: 'Profile was not found.' };
      // the router has percent-decoded the path already
      const found = lookupProfile(reader(), space, identifier, { decoded: true });
      return found.ok ? { ok: true, profileId: found.profileId } : { ok: false, code: found.error.code, message: found.error.message };
    },
    externalIds(space, _collection, profile) {
      return profileExternalIds(reader(), space, profile.id) ?? [];
    },
  };
}

/** A user's accounts, from the group links on its identity record. */
export function identityLinkIndex(store: StoreHandle): ProfileLinkIndex {
  return {
    async links(space, collection, profileId, limit) {
      const s = store.get();
      if (s === undefined) throw new ProfileStoreUnavailableError();
      if (collection !== 'users') return [];
      const record = s.identityProfile(space, profileId);
      return (record?.groups ?? []).slice(0, limit).map(([groupId, at, messageId]) => ({
        toCollection: 'accounts' as const,
        externalIds: [{ type: 'group_id', id: s.account(space, groupId)?.raw ?? groupId, collection: 'accounts' as const, encoding: 'none' as const, createdAt: at, firstMessageId: messageId }],
      }));
    },
  };
}
