/**
 * Which identifiers of a profile a destination has sent its values to, and which are new: a profile
 * that gained an identifier (an identify with a new email, a merge) gets its current values re-sent
 * to that identifier, as Segment re-syncs on a new external id.
 */
import type { ConnectionRecord } from './destination-record.ts';
import type { ProfileIdentifier } from './identifiers.ts';

export const identifierKey = (i: Pick<ProfileIdentifier, 'type' | 'value'>): string => `${i.type}:${i.value}`;

/** The profile's identifiers any of the connections sends to, as sorted keys. */
export function ledgerKeys(identifiers: readonly ProfileIdentifier[], connections: readonly Pick<ConnectionRecord, 'identifiers' | 'includeAnonymous'>[]): string[] {
  const types = new Set<string>();
  for (const c of connections) {
    for (const choice of c.identifiers) if (choice.type !== 'anonymous_id' || c.includeAnonymous) types.add(choice.type);
    if (c.includeAnonymous) types.add('anonymous_id');
  }
  return [...new Set(identifiers.filter((i) => types.has(i.type)).map(identifierKey))].sort();
}

/** The keys of `current` not in `previous`. */
export function newKeys(previous: readonly string[], current: readonly string[]): Set<string> {
  const before = new Set(previous);
  return new Set(current.filter((k) => !before.has(k)));
}
