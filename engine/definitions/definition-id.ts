/** Ids for definitions, previews, destinations and connections: a prefix and 22 base62 characters (time, then randomness), so ids sort by creation time. */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export type IdPrefix = 'aud' | 'tra' | 'prv' | 'dst' | 'dcn';

/** 6 bytes of epoch ms and 10 random bytes, as a fixed-width base62 number (22 digits hold 128 bits). */
export function newId(prefix: IdPrefix, nowMs: number): string {
  const bytes = Buffer.alloc(16);
  bytes.writeUIntBE(Math.max(0, Math.floor(nowMs)) % 2 ** 48, 0, 6);
  randomBytes(10).copy(bytes, 6);
  let n = BigInt(`0x${bytes.toString('hex')}`);
  let digits = '';
  for (let i = 0; i < 22; i++) {
    digits = ALPHABET[Number(n % 62n)]! + digits;
    n /= 62n;
  }
  return `${prefix}_${digits}`;
}

export function idPrefixOf(kind: 'audience' | 'trait'): 'aud' | 'tra' {
  return kind === 'audience' ? 'aud' : 'tra';
}
