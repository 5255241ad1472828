/** Identifiers are read from every location of the spec §6 table, normalised, filtered and ordered by priority. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { extractIdentifiers } from '../../../engine/identity/extract-identifiers.ts';
import { DEFAULT_IDENTITY_RULES, identityRules, type IdentityRulesConfig } from '../../../engine/identity/rules.ts';
import type { FlockEvent } from '../../../engine/event/model.ts';
import { base } from '../../support/events.ts';

const T = Date.parse('2026-03-01T00:00:00Z');
const ev = (e: Partial<FlockEvent>) => base({ timestamp: T, ...e });
const users = (e: FlockEvent, config?: IdentityRulesConfig) => {
  const r = config === undefined ? { ok: true as const, rules: DEFAULT_IDENTITY_RULES } : identityRules(config);
  if (!r.ok) throw new Error('bad rules');
  return extractIdentifiers(e, r.rules).users.map((i) => `${i.type}:${i.value}`);
};

test('user_id and anonymous_id; values lowercased, the spelling sent kept as raw', () => {
  const e = ev({ userId: 'Alice', anonymousId: 'A-1' });
  assert.equal(users(e), ['user_id:alice', 'anonymous_id:a-1']);
  assert.equal(extractIdentifiers(e, DEFAULT_IDENTITY_RULES).users.map((i) => i.raw), ['Alice', 'A-1']);
});

test('email from traits (identify) and context.traits; deduplicated', () => {
  assert.equal(users(ev({ type: 'identify', userId: 'u1', traits: { email: 'Jane@Example.com' } })), ['user_id:u1', 'email:jane@example.com']);
  assert.equal(users(ev({ type: 'track', event: 'A', anonymousId: 'a1', context: { traits: { email: 'j@example.com' } } })), ['email:j@example.com', 'anonymous_id:a1']);
  assert.equal(users(ev({ type: 'identify', userId: 'u1', traits: { email: 'J@example.com' }, context: { traits: { email: 'j@example.com' } } })), ['user_id:u1', 'email:j@example.com']);
});

test("group calls: traits.email is the account's, not the user's; groupId is an account identifier", () => {
  const e = ev({ type: 'group', userId: 'u1', groupId: 'ACME', traits: { email: 'billing@acme.example' } });
  assert.equal(users(e), ['user_id:u1']);
  assert.equal(
    extractIdentifiers(e, DEFAULT_IDENTITY_RULES).accounts.map((i) => `${i.type}:${i.value}`),
    ['group_id:acme'],
  );
});

test('device ids by device type: id, advertising id only with ad tracking enabled, push token', () => {
  const device = (d: Record<string, unknown>) => users(ev({ anonymousId: 'a1', context: { device: d } }));
  assert.equal(device({ type: 'ios', id: 'D1', advertisingId: 'ad1', adTrackingEnabled: true, token: 'tok1' }), ['anonymous_id:a1', 'ios.id:d1', 'ios.idfa:ad1', 'ios.push_token:tok1']);
  assert.equal(device({ type: 'Android', id: 'D2', advertisingId: 'ad2', adTrackingEnabled: false, token: 'tok2' }), ['android.id:d2', 'android.push_token:tok2', 'anonymous_id:a1']);
  assert.equal(device({ type: 'android', advertisingId: 'ad3', adTrackingEnabled: 'true' }), ['anonymous_id:a1'], 'adTrackingEnabled must be true');
  assert.equal(device({ type: 'web', id: 'D3' }), ['anonymous_id:a1'], 'other device types promote nothing');
});

test('ga_client_id from integrations["Google Analytics"].clientId, in context or at the top level', () => {
  assert.equal(users(ev({ anonymousId: 'a1', context: { integrations: { 'Google Analytics': { clientId: 'GA.1' } } } })), ['anonymous_id:a1', 'ga_client_id:ga.1']);
  assert.equal(users(ev({ anonymousId: 'a1', integrations: { 'Google Analytics': { clientId: 'GA.2' } } })), ['anonymous_id:a1', 'ga_client_id:ga.2']);
});

test('context.externalIds: all four fields required; users collection only; types lowercased; numbers accepted', () => {
  const e = ev({
    userId: 'u1',
    context: {
      externalIds: [
        { id: '+1 555 0100', type: 'Phone', collection: 'users', encoding: 'none' },
        { id: 42, type: 'shopify_id', collection: 'users', encoding: 'none' },
        { id: 'x', type: 'missing_encoding', collection: 'users' },
        { id: 'acc', type: 'salesforce_id', collection: 'accounts', encoding: 'none' },
        { id: 'y', type: 'bad:type', collection: 'users', encoding: 'none' },
        'not an object',
      ],
    },
  });
  assert.equal(users(e), ['user_id:u1', 'phone:+1 555 0100', 'shopify_id:42']);
  assert.equal(extractIdentifiers(e, DEFAULT_IDENTITY_RULES).accounts.map((i) => `${i.type}:${i.value}`), ['salesforce_id:acc']);
});

test('custom identifiers from a configured trait key: traits, context.traits and properties, snake_case or camelCase', () => {
  const config = { identifiers: { phone_number: { traitKey: 'phone_number' } } };
  assert.equal(users(ev({ type: 'identify', userId: 'u1', traits: { phoneNumber: '555-0100' } }), config), ['user_id:u1', 'phone_number:555-0100']);
  assert.equal(users(ev({ type: 'track', event: 'A', userId: 'u1', properties: { phone_number: '555-0101' } }), config), ['user_id:u1', 'phone_number:555-0101']);
  assert.equal(users(ev({ type: 'track', event: 'A', userId: 'u1', context: { traits: { phone_number: '555-0102' } } }), config), ['user_id:u1', 'phone_number:555-0102']);
  assert.equal(users(ev({ type: 'track', event: 'A', userId: 'u1', properties: { phone_number: '555-0101' } })), ['user_id:u1'], 'not without configuration');
});

test('blocked values are not promoted (the event keeps them); a blocked-only event identifies nobody', () => {
  assert.equal(users(ev({ userId: 'null', anonymousId: '0000-0000' })), []);
  assert.equal(users(ev({ userId: 'NULL', anonymousId: 'a1' })), ['anonymous_id:a1']);
  assert.equal(users(ev({ userId: '-1', anonymousId: 'Anonymous', context: { traits: { email: '' } } })), []);
  assert.equal(users(ev({ userId: 'u1', anonymousId: 'void' }), { blocked: [{ exact: 'void' }] }), ['user_id:u1']);
});

test('disabled types are not promoted; values over 500 characters are not either', () => {
  assert.equal(users(ev({ userId: 'u1', anonymousId: 'shared-ipad' }), { identifiers: { anonymous_id: { enabled: false } } }), ['user_id:u1']);
  assert.equal(users(ev({ userId: 'x'.repeat(501), anonymousId: 'a1' })), ['anonymous_id:a1']);
  assert.equal(users(ev({ userId: 'x'.repeat(500) })).length, 1);
});

test('alias: previousId is not an identifier (alias calls do not merge)', () => {
  assert.equal(users(ev({ type: 'alias', userId: 'u2', previousId: 'u1' })), ['user_id:u2']);
});

test('order: priority (user_id, email, then alphabetical; configured ranks first), then value', () => {
  const e = ev({
    userId: 'u1',
    anonymousId: 'a1',
    context: { traits: { email: 'e@example.com' }, device: { type: 'ios', id: 'd1' }, externalIds: [{ id: 'p2', type: 'phone', collection: 'users', encoding: 'none' }, { id: 'p1', type: 'phone', collection: 'users', encoding: 'none' }] },
  });
  assert.equal(users(e), ['user_id:u1', 'email:e@example.com', 'anonymous_id:a1', 'ios.id:d1', 'phone:p1', 'phone:p2']);
  assert.equal(users(e, { identifiers: { phone: { priority: 1 }, user_id: { priority: 2 }, email: { priority: 3 } } }), ['phone:p1', 'phone:p2', 'user_id:u1', 'email:e@example.com', 'anonymous_id:a1', 'ios.id:d1']);
});

test.run();
