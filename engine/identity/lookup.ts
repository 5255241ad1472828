/** Read-side identity lookups for the Profile API: `type:value` or a segment id → the canonical profile; a profile's external ids. */
import { isProfileId } from './profile-id.ts';
import type { IdentityReader } from './records.ts';
import { validIdentifierType } from './rules.ts';

export type LookupErrorCode = 'invalid_identifier' | 'not_found';

export interface LookupError {
  readonly code: LookupErrorCode;
  readonly message: string;
}

export type ParsedIdentifier = { readonly ok: true; readonly type: string; readonly value: string } | { readonly ok: false; readonly error: LookupError };

export type LookupResult =
  | { readonly ok: true; readonly profileId: string; /** the profile the identifier named directly, when it was merged away since. */ readonly mergedFrom?: string }
  | { readonly ok: false; readonly error: LookupError };

/** An external id as the Profile API lists it (`GET …/external_ids`). */
export interface IdentityExternalId {
  readonly type: string;
  /** the value as first sent. */
  readonly id: string;
  readonly collection: 'users';
  readonly encoding: 'none';
  /** first seen: the event time of the message that added it. */
  readonly createdAt: number;
  readonly firstMessageId: string;
  /** the source of that message, when known. */
  readonly sourceId?: string;
}

export interface LookupOptions {
  /** the identifier is already percent-decoded (a router's path parameter): do not decode it again. */
  readonly decoded?: boolean;
}

const invalid = (message: string): { ok: false; error: LookupError } => ({ ok: false, error: { code: 'invalid_identifier', message } });

/**
 * Parses a Profile API identifier `<type>:<value>` as it appears in the URL path: percent-decoded (so
 * `+` is sent as `%2B`; a bare `+` stays a plus), the value lowercased as the graph stores it.
 */
export function parseProfileIdentifier(text: string, options: LookupOptions = {}): ParsedIdentifier {
  let decoded = text;
  if (options.decoded !== true) {
    try {
      decoded = decodeURIComponent(text);
    } catch {
      return invalid(`"${text}" is not correctly percent-encoded`);
    }
  }
  const colon = decoded.indexOf(':');
  if (colon <= 0) return invalid(`"${decoded}" is not <type>:<value>`);
  const type = decoded.slice(0, colon);
  const value = decoded.slice(colon + 1);
  if (!validIdentifierType(type)) return invalid(`"${type}" is not an identifier type (lowercase, no ":")`);
  if (value === '') return invalid(`"${decoded}" has no value`);
  return { ok: true, type, value: value.toLowerCase() };
}

/** Follows the merge history from a profile id to the profile that absorbed it last (undefined: never a profile). */
export function canonicalProfile(reader: IdentityReader, space: string, id: string): string | undefined {
  let current = id;
  // Chains are as long as the merges that formed them; the bound only stops a corrupted cycle.
  for (let hops = 0; hops < 100_000; hops++) {
    if (reader.identityProfile(space, current) !== undefined) return current;
    const m = reader.identityMerge(space, current);
    if (m === undefined) return undefined;
    current = m.into;
  }
  return undefined;
}

/** Resolves `type:value` (or a `use_…` segment id, old ids of merged profiles included) to the canonical profile. */
export function lookupProfile(reader: IdentityReader, space: string, identifier: string, options: LookupOptions = {}): LookupResult {
  if (isProfileId(identifier)) {
    const id = canonicalProfile(reader, space, identifier);
    if (id === undefined) return { ok: false, error: { code: 'not_found', message: 'Profile was not found.' } };
    return id === identifier ? { ok: true, profileId: id } : { ok: true, profileId: id, mergedFrom: identifier };
  }
  const parsed = parseProfileIdentifier(identifier, options);
  if (!parsed.ok) return parsed;
  const owner = reader.identifierOwner(space, parsed.type, parsed.value);
  if (owner === undefined) return { ok: false, error: { code: 'not_found', message: 'Profile was not found.' } };
  return { ok: true, profileId: owner };
}

/**
 * A profile's external ids in the order they were added, each with the spelling first sent, when it
 * was first seen (event time) and by which message and source (undefined: no such canonical profile).
 */
export function profileExternalIds(reader: IdentityReader, space: string, profileId: string): IdentityExternalId[] | undefined {
  const record = reader.identityProfile(space, profileId);
  if (record === undefined) return undefined;
  return record.ids.map(([type, value, at, messageId, sourceId, raw]) => {
    const x: IdentityExternalId = { type, id: raw ?? value, collection: 'users', encoding: 'none', createdAt: at, firstMessageId: messageId };
    return sourceId === null ? x : { ...x, sourceId };
  });
}
