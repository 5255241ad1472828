/** Looks up which space a write key or token belongs to; an interface so a database can back it later. */
import { identityRules, type IdentityRules, type IdentityRulesConfig } from '../identity/rules.ts';
import type { Space, SpaceWithKeys, WriteKeyGrant } from './space.ts';

/** What a read token grants: one space, and that space's Profile API rate limit when it has its own. */
export interface TokenGrant {
  readonly space: Space;
  readonly profileRateLimit?: number;
}

export interface SpaceDirectory {
  /** the grant of a write key, or null when no space has it. */
  byWriteKey(writeKey: string): Promise<WriteKeyGrant | null>;
  /** the space a Profile API access token reads, or null. Write keys and management tokens are never access tokens. */
  byAccessToken?(token: string): Promise<TokenGrant | null>;
  /** the space a management API token manages, or null. */
  byManagementToken?(token: string): Promise<TokenGrant | null>;
}

/** A directory over a fixed list of spaces (the spaces file, or the development default). */
export function staticSpaceDirectory(spaces: readonly SpaceWithKeys[]): SpaceDirectory {
  const grants = new Map<string, WriteKeyGrant>();
  const access = new Map<string, TokenGrant>();
  const management = new Map<string, TokenGrant>();
  for (const { writeKeys, accessTokens = [], managementTokens = [], profileRateLimit, id, name, identity } of spaces) {
    const space: Space = { id, name };
    const rules = identity === undefined ? undefined : checkedRules(id, identity);
    for (const { key, sourceId } of writeKeys) grants.set(key, rules === undefined ? { space, sourceId } : { space, sourceId, identity: rules });
    const grant: TokenGrant = profileRateLimit === undefined ? { space } : { space, profileRateLimit };
    for (const token of accessTokens) access.set(token, grant);
    for (const token of managementTokens) management.set(token, { space });
  }
  return {
    byWriteKey: (writeKey) => Promise.resolve(grants.get(writeKey) ?? null),
    byAccessToken: (token) => Promise.resolve(access.get(token) ?? null),
    byManagementToken: (token) => Promise.resolve(management.get(token) ?? null),
  };
}

/** The spaces file was validated (spacesFileSchema): a bad rule here is a caller's bug. */
function checkedRules(space: string, config: IdentityRulesConfig): IdentityRules {
  const checked = identityRules(config);
  if (!checked.ok) throw new Error(`space ${space}: ${checked.issues.map((i) => `identity.${i.path}: ${i.message}`).join('; ')}`);
  return checked.rules;
}
