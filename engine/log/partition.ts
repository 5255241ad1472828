/** Which partition of the event log an event goes to: a stable hash of its profile identifier, modulo the partition count. */
import type { FlockEvent } from '../event/model.ts';

export const DEFAULT_PARTITIONS = 16;

/**
 * The identifier events are partitioned by. Identity is not resolved at ingest, so this is the best
 * available stand-in for the profile: events of one user stay in one partition, in order.
 */
export function partitionKey(event: Pick<FlockEvent, 'userId' | 'anonymousId' | 'messageId'>): string {
  return event.userId ?? event.anonymousId ?? event.messageId;
}

export function partitionOf(
  event: Pick<FlockEvent, 'userId' | 'anonymousId' | 'messageId'>,
  partitions: number = DEFAULT_PARTITIONS,
): number {
  return fnv1a32(partitionKey(event)) % partitions;
}

/**
 * 32-bit FNV-1a over the UTF-8 bytes of `text` (lone surrogates count as U+FFFD, as TextEncoder does).
 * Stable across processes, versions and languages, and needs no allocation.
 */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) {
      h = Math.imul(h ^ c, 0x01000193);
      continue;
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), 0x01000193);
      h = Math.imul(h ^ (0x80 | (c & 0x3f)), 0x01000193);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
        i++;
        h = Math.imul(h ^ (0xf0 | (cp >> 18)), 0x01000193);
        h = Math.imul(h ^ (0x80 | ((cp >> 12) & 0x3f)), 0x01000193);
        h = Math.imul(h ^ (0x80 | ((cp >> 6) & 0x3f)), 0x01000193);
        h = Math.imul(h ^ (0x80 | (cp & 0x3f)), 0x01000193);
        continue;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
    h = Math.imul(h ^ (0xe0 | (c >> 12)), 0x01000193);
    h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), 0x01000193);
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), 0x01000193);
  }
  return h >>> 0;
}
