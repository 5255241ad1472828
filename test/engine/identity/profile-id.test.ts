/** Canonical profile ids: Segment's shape (`use_` + 27 base62), a pure function of space, creating message and top identifier. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { isProfileId, profileIdFor } from '../../../engine/identity/profile-id.ts';

/** The same derivation with BigInt arithmetic: the fast long division must agree with it. */
function reference(space: string, messageId: string, type: string, value: string, attempt = 0): string {
  const hash = createHash('sha256').update(`${space}\u0000${messageId}\u0000${type}:${value}${attempt === 0 ? '' : `\u0000${attempt}`}`).digest();
  let n = 0n;
  for (let i = 0; i < 20; i++) n = (n << 8n) | BigInt(hash[i]!);
  let s = '';
  for (let i = 0; i < 27; i++) {
    s = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'[Number(n % 62n)]! + s;
    n /= 62n;
  }
  return `use_${s}`;
}

test('shape: use_ + 27 base62 characters', () => {
  const id = profileIdFor('spa_a', 'm1', 'user_id', 'u1');
  assert.ok(isProfileId(id), id);
  assert.not.ok(isProfileId('user_id:u1'));
  assert.not.ok(isProfileId(`use_${'a'.repeat(26)}`));
});

test('deterministic, and every input matters', () => {
  const id = profileIdFor('spa_a', 'm1', 'user_id', 'u1');
  assert.is(profileIdFor('spa_a', 'm1', 'user_id', 'u1'), id);
  const variants = [profileIdFor('spa_b', 'm1', 'user_id', 'u1'), profileIdFor('spa_a', 'm2', 'user_id', 'u1'), profileIdFor('spa_a', 'm1', 'email', 'u1'), profileIdFor('spa_a', 'm1', 'user_id', 'u2'), profileIdFor('spa_a', 'm1', 'user_id', 'u1', 1)];
  assert.is(new Set([id, ...variants]).size, 6);
});

test('equals the BigInt base62 of the first 20 bytes of SHA-256 (2,000 inputs)', () => {
  for (let i = 0; i < 2000; i++) assert.is(profileIdFor('spa', `m${i}`, 'anonymous_id', `a${i * 7}`, i % 3), reference('spa', `m${i}`, 'anonymous_id', `a${i * 7}`, i % 3));
});

test.run();
