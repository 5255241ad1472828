/**
 * Which identifiers of a profile a connection sends to: the profile's identifiers (from the identity
 * graph, or read off a direct profile id), picked per type by the ID-sync strategy.
 */
import type { IdentityReader } from '../identity/records.ts';
import { MAX_ALL_VALUES, type ConnectionRecord } from './destination-record.ts';

export interface ProfileIdentifier {
  readonly type: string;
  readonly value: string;
  /** first seen (event time): `first` is the oldest, `last` the newest. */
  readonly at: number;
}

/**
 * A profile's identifiers: the graph's record (values as first spelled), or for a profile keyed
 * directly by an identifier (`user_id:alice`, `anonymous_id:…`, `group_id:…`) that identifier.
 */
export function profileIdentifiers(reader: Pick<IdentityReader, 'identityProfile'> | undefined, space: string, profileId: string): ProfileIdentifier[] {
  const record = reader?.identityProfile(space, profileId);
  if (record !== undefined) return record.ids.map(([type, value, at, , , raw]) => ({ type, value: raw ?? value, at }));
  const colon = profileId.indexOf(':');
  if (colon > 0) return [{ type: profileId.slice(0, colon), value: profileId.slice(colon + 1), at: 0 }];
  return [];
}

/**
 * The identifiers one call per value goes to. Per chosen type: `first` the oldest value, `last` the
 * newest, `all` up to MAX_ALL_VALUES oldest first; anonymous ids when the connection includes them.
 * `exit`: Segment applies no ID sync to exits — every value of the chosen types gets one.
 */
export function chooseIdentifiers(ids: readonly ProfileIdentifier[], connection: Pick<ConnectionRecord, 'identifiers' | 'includeAnonymous'>, exit: boolean): ProfileIdentifier[] {
  const out: ProfileIdentifier[] = [];
  const choices = [...connection.identifiers];
  if (connection.includeAnonymous && !choices.some((c) => c.type === 'anonymous_id')) choices.push({ type: 'anonymous_id', strategy: 'all' });
  for (const choice of choices) {
    if (choice.type === 'anonymous_id' && !connection.includeAnonymous) continue;
    const values = ids.filter((i) => i.type === choice.type).sort((a, b) => a.at - b.at || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
    if (values.length === 0) continue;
    if (exit) out.push(...values);
    else if (choice.strategy === 'first') out.push(values[0]!);
    else if (choice.strategy === 'last') out.push(values[values.length - 1]!);
    else out.push(...values.slice(0, MAX_ALL_VALUES));
  }
  return out;
}
