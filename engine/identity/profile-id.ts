/** Canonical profile ids (`use_…`): derived from the creating event's content, so a replay of the same log creates the same ids. */
import { createHash } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE = 62n;
/** Segment's segment ids are `use_` + 27 base62 characters (a KSUID's 20 bytes); Flock's have the same shape. */
const LENGTH = 27;

/**
 * The id of the profile an event creates: `use_` + base62 of the first 20 bytes of
 * SHA-256(space, messageId, the event's highest-priority identifier, attempt). `attempt` > 0 only when
 * a lower attempt's id is taken already (the same messageId sent twice past the log's dedupe window).
 */
export function profileIdFor(space: string, messageId: string, type: string, value: string, attempt = 0): string {
  const hash = createHash('sha256').update(`${space}\u0000${messageId}\u0000${type}:${value}${attempt === 0 ? '' : `\u0000${attempt}`}`).digest();
  let n = 0n;
  for (let i = 0; i < 20; i++) n = (n << 8n) | BigInt(hash[i]!);
  const out: string[] = new Array<string>(LENGTH);
  for (let i = LENGTH - 1; i >= 0; i--) {
    out[i] = ALPHABET[Number(n % BASE)]!;
    n /= BASE;
  }
  return `use_${out.join('')}`;
}

/** Whether `text` has the shape of a canonical profile id. */
export function isProfileId(text: string): boolean {
  return /^use_[0-9A-Za-z]{27}$/.test(text);
}
