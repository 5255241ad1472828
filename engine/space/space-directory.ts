/** Looks up which space a write key belongs to; an interface so a database can back it later. */
import type { SpaceWithKeys, WriteKeyGrant } from './space.ts';

export interface SpaceDirectory {
  /** the grant of a write key, or null when no space has it. */
  byWriteKey(writeKey: string): Promise<WriteKeyGrant | null>;
}

/** A directory over a fixed list of spaces (the spaces file, or the development default). */
export function staticSpaceDirectory(spaces: readonly SpaceWithKeys[]): SpaceDirectory {
  const grants = new Map<string, WriteKeyGrant>();
  for (const { writeKeys, ...space } of spaces) {
    for (const { key, sourceId } of writeKeys) grants.set(key, { space, sourceId });
  }
  return {
    byWriteKey: (writeKey) => Promise.resolve(grants.get(writeKey) ?? null),
  };
}
