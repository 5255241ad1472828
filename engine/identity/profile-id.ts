/** Canonical profile ids (`use_…`): derived from the creating event's content, so a replay of the same log creates the same ids. */
import { createHash } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** Segment's segment ids are `use_` + 27 base62 characters (a KSUID's 20 bytes); Flock's have the same shape. */
const LENGTH = 27;

/**
 * The id of the profile an event creates: `use_` + base62 of the first 20 bytes of
 * SHA-256(space, messageId, the event's highest-priority identifier, attempt). `attempt` > 0 only when
 * a lower attempt's id is taken already (the same messageId sent twice past the log's dedupe window).
 */
export function profileIdFor(space: string, messageId: string, type: string, value: string, attempt = 0): string {
  const hash = createHash('sha256').update(`${space}\u0000${messageId}\u0000${type}:${value}${attempt === 0 ? '' : `\u0000${attempt}`}`).digest();
  // The 160-bit number as five 32-bit words, divided by 62 digit by digit (long division; every
  // intermediate stays below 62 · 2^32, exact in a double).
  const words = [hash.readUInt32BE(0), hash.readUInt32BE(4), hash.readUInt32BE(8), hash.readUInt32BE(12), hash.readUInt32BE(16)];
  let out = '';
  for (let d = 0; d < LENGTH; d++) {
    let rem = 0;
    for (let w = 0; w < 5; w++) {
      const cur = rem * 4294967296 + words[w]!;
      words[w] = Math.floor(cur / 62);
      rem = cur - words[w]! * 62;
    }
    out = ALPHABET[rem]! + out;
  }
  return `use_${out}`;
}

/** Whether `text` has the shape of a canonical profile id. */
export function isProfileId(text: string): boolean {
  return /^use_[0-9A-Za-z]{27}$/.test(text);
}
