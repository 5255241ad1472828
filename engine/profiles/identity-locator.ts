/**
 * The Profile API over the identity graph the engine checkpoints (engine/identity): `type:value` and
 * `use_…` ids (merged-away ones included) find the canonical profile; external ids and account links
 * come from the graph's profile record. Accounts (`group_id:<id>`) are the engine's account profiles:
 * their traits from group calls, their account audiences and computed traits, their users as links.
 */
import { lookupProfile, profileExternalIds } from '../identity/lookup.ts';
import { accountProfileId } from '../runtime/profile-state.ts';
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
      if (collection === 'accounts') {
        const colon = identifier.indexOf(':');
        if (colon <= 0 || colon === identifier.length - 1) return { ok: false, code: 'invalid_identifier', message: `"${identifier}" is not <type>:<value>` };
        if (identifier.slice(0, colon) !== 'group_id') return { ok: false, code: 'not_found', message: 'Profile was not found.' };
        // the account as first spelled (group ids match case-insensitively), else as given
        const groupId = identifier.slice(colon + 1);
        const record = reader().account(space, groupId.toLowerCase());
        return { ok: true, profileId: accountProfileId(record === undefined ? groupId : (record.raw ?? groupId.toLowerCase())) };
      }
      // the router has percent-decoded the path already
      const found = lookupProfile(reader(), space, identifier, { decoded: true });
      return found.ok ? { ok: true, profileId: found.profileId } : { ok: false, code: found.error.code, message: found.error.message };
    },
    externalIds(space, collection, profile) {
      if (collection === 'accounts') {
        const groupId = profile.id.slice('group_id:'.length);
        const record = reader().account(space, groupId.toLowerCase());
        return [{ type: 'group_id', id: groupId, collection: 'accounts', encoding: 'none', createdAt: record?.at ?? profile.firstSeen, ...(record === undefined ? {} : { firstMessageId: record.messageId }) }];
      }
      return profileExternalIds(reader(), space, profile.id) ?? [];
    },
  };
}

/** A user's accounts, from the group links on its identity record; an account's users. */
export function identityLinkIndex(store: StoreHandle): ProfileLinkIndex {
  return {
    async links(space, collection, profileId, limit) {
      const s = store.get();
      if (s === undefined) throw new ProfileStoreUnavailableError();
      if (collection === 'accounts') {
        const groupId = profileId.slice('group_id:'.length).toLowerCase();
        return s.accountUsers(space, groupId).slice(0, limit).map(({ profileId: user }) => ({ toCollection: 'users' as const, externalIds: profileExternalIds(s, space, user) ?? [] }));
      }
      const record = s.identityProfile(space, profileId);
      return (record?.groups ?? []).slice(0, limit).map(([groupId, at, messageId]) => ({
        toCollection: 'accounts' as const,
        externalIds: [{ type: 'group_id', id: s.account(space, groupId)?.raw ?? groupId, collection: 'accounts' as const, encoding: 'none' as const, createdAt: at, firstMessageId: messageId }],
      }));
    },
  };
}
