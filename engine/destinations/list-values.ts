/** The values a list destination holds for an identifier: trimmed, and for hashing lower-cased then SHA-256 (hex), as ad platforms require. */
import { createHash } from 'node:crypto';

export function listValue(value: string, hashed: boolean): string {
  const trimmed = value.trim();
  return hashed ? createHash('sha256').update(trimmed.toLowerCase()).digest('hex') : trimmed;
}

/** What one sync sends: the values to add and to remove, from the list as last synced and as it is now. */
export function listDifference(previous: ReadonlySet<string>, current: ReadonlySet<string>): { added: string[]; removed: string[] } {
  const added: string[] = [];
  const removed: string[] = [];
  for (const v of current) if (!previous.has(v)) added.push(v);
  for (const v of previous) if (!current.has(v)) removed.push(v);
  return { added: added.sort(), removed: removed.sort() };
}
