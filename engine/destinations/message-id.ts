/** Deterministic message ids: the same change sent to the same destination and identifier always gets the same id, so a receiver deduplicates redeliveries. */
import { createHash } from 'node:crypto';

/** `personas_` (Segment's prefix for Engage output) and 27 base64url characters of a SHA-256 over the parts. */
export function deliveryMessageId(...parts: readonly string[]): string {
  return `personas_${createHash('sha256').update(parts.join('\u0000')).digest('base64url').slice(0, 27)}`;
}
