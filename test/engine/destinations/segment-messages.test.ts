/**
 * The messages a flip becomes, field by field against segment-surface.md §4.2–4.4's examples:
 * Identify / Track for audiences and computed traits, Group for accounts, identifier fan-out and ID
 * sync (exits to every value), anonymous ids, trait enrichment, deterministic messageIds.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_NAMES, type ConnectionRecord } from '../../../engine/destinations/destination-record.ts';
import { chooseIdentifiers, profileIdentifiers } from '../../../engine/destinations/identifiers.ts';
import { flipMessages, type Computation, type ProfileFacts } from '../../../engine/destinations/segment-messages.ts';

const connection: ConnectionRecord = {
  id: 'dcn_1',
  space: 'spa_###',
  destinationId: 'dst_1',
  definitionId: 'aud_###',
  identify: true,
  track: true,
  group: false,
  accountUsers: false,
  identifiers: [{ type: 'user_id', strategy: 'all' }],
  includeAnonymous: false,
  enrichTraits: [],
  backfill: true,
  createdAt: 0,
};
const target = { destinationId: 'dst_1', destinationName: 'My Hook', space: 'spa_###', names: DEFAULT_NAMES };
const audience: Computation = { id: 'aud_###', key: 'first_time_shopper', kind: 'audience', target: 'USERS' };
const trait: Computation = { id: 'tra_###', key: 'total_revenue_180_days', kind: 'trait', target: 'USERS' };
const facts: Record<string, ProfileFacts> = {
  p1: {
    identifiers: [
      { type: 'user_id', value: 'u123', at: 1 },
      { type: 'email', value: 'a@x.com', at: 2 },
      { type: 'email', value: 'b@x.com', at: 3 },
      { type: 'email', value: 'c@x.com', at: 4 },
      { type: 'email', value: 'd@x.com', at: 5 },
      { type: 'anonymous_id', value: 'anon-1', at: 0 },
    ],
    traits: { plan: 'pro', name: 'Ann' },
  },
};
const of = (id: string) => facts[id] ?? { identifiers: [], traits: {} };
const flip = (value: unknown) => ({ id: 'aud_###.1.p1.1000.e.mX', profileId: 'p1', at: 1000, value });
const personas = (c: Computation) => ({ computation_class: c.kind, computation_id: c.id, computation_key: c.key, namespace: 'spa_###', space_id: 'spa_###' });
/** A message without the fields the spec's examples leave out (ids, time, integrations). */
const shape = (m: Record<string, unknown>) => {
  const { messageId: _m, timestamp: _t, integrations: _i, ...rest } = m;
  return rest;
};

test('audience → Identify: the boolean trait named by the key, context.personas (§4.2)', () => {
  const [identify] = flipMessages(flip(true), audience, { ...connection, track: false }, target, of).map((o) => o.message);
  assert.equal(shape(identify!), { type: 'identify', userId: 'u123', traits: { first_time_shopper: true }, context: { personas: personas(audience) } });
  assert.match(identify!.messageId, /^personas_[A-Za-z0-9_-]{27}$/);
  assert.equal(identify!['integrations'], { All: false, 'My Hook': true });
  assert.is(identify!['timestamp'], '1970-01-01T00:00:01.000Z');
  const [exit] = flipMessages(flip(false), audience, { ...connection, track: false }, target, of).map((o) => o.message);
  assert.equal((exit!['traits'] as object), { first_time_shopper: false });
});

test('audience → Track: Audience Entered / Audience Exited with audience_key and the boolean (§4.2)', () => {
  const [entered] = flipMessages(flip(true), audience, { ...connection, identify: false }, target, of).map((o) => o.message);
  assert.equal(shape(entered!), {
    type: 'track',
    userId: 'u123',
    event: 'Audience Entered',
    properties: { audience_key: 'first_time_shopper', first_time_shopper: true },
    context: { personas: personas(audience) },
  });
  const [exited] = flipMessages(flip(false), audience, { ...connection, identify: false }, { ...target, names: { ...DEFAULT_NAMES, exited: 'Left' } }, of).map((o) => o.message);
  assert.is(exited!['event'], 'Left');
  assert.equal(exited!['properties'], { audience_key: 'first_time_shopper', first_time_shopper: false });
});

test('computed trait → Identify with the value, Track Trait Computed with trait_key (§4.2)', () => {
  const messages = flipMessages(flip(450), trait, connection, target, of).map((o) => o.message);
  assert.equal(shape(messages[0]!), { type: 'identify', userId: 'u123', traits: { total_revenue_180_days: 450 }, context: { personas: personas(trait) } });
  assert.equal(shape(messages[1]!), {
    type: 'track',
    userId: 'u123',
    event: 'Trait Computed',
    properties: { trait_key: 'total_revenue_180_days', total_revenue_180_days: 450 },
    context: { personas: personas(trait) },
  });
  // a trait that no longer has a value is sent as null
  assert.equal(flipMessages(flip(undefined), trait, { ...connection, track: false }, target, of)[0]!.message['traits'], { total_revenue_180_days: null });
});

test('fan-out: one call per identifier value; email in traits.email (Identify) and context.traits.email (Track); ID sync caps `all` at 3 but not exits (§4.3)', () => {
  const c = { ...connection, identifiers: [{ type: 'user_id', strategy: 'all' as const }, { type: 'email', strategy: 'all' as const }] };
  const entered = flipMessages(flip(true), audience, c, target, of).map((o) => o.message);
  assert.is(entered.length, 8, '1 user_id + 3 emails, Identify and Track each');
  const emailIdentify = entered.find((m) => m.type === 'identify' && (m['traits'] as Record<string, unknown>)['email'] === 'a@x.com')!;
  assert.equal(shape(emailIdentify), { type: 'identify', userId: 'u123', traits: { email: 'a@x.com', first_time_shopper: true }, context: { personas: personas(audience) } });
  const emailTrack = entered.find((m) => m.type === 'track' && (m['context'] as { traits?: { email: string } }).traits?.email === 'b@x.com')!;
  assert.equal((emailTrack['context'] as Record<string, unknown>)['traits'], { email: 'b@x.com' });
  assert.is(new Set(entered.map((m) => m.messageId)).size, 8, 'distinct messageIds');
  assert.is(flipMessages(flip(false), audience, c, target, of).length, 10, 'exits go to all 4 emails');
  const first = flipMessages(flip(true), audience, { ...c, track: false, identifiers: [{ type: 'email', strategy: 'first' }] }, target, of);
  const last = flipMessages(flip(true), audience, { ...c, track: false, identifiers: [{ type: 'email', strategy: 'last' }] }, target, of);
  assert.equal([first, last].map((ms) => ms.map((o) => (o.message['traits'] as Record<string, unknown>)['email'])), [['a@x.com'], ['d@x.com']]);
});

test('anonymous ids only when included; enrichment adds chosen traits; messageIds are deterministic', () => {
  assert.not.ok(flipMessages(flip(true), audience, connection, target, of).some((o) => o.message['anonymousId'] !== undefined));
  const withAnon = flipMessages(flip(true), audience, { ...connection, track: false, includeAnonymous: true }, target, of).map((o) => o.message);
  assert.equal(withAnon.map((m) => [m['userId'], m['anonymousId']]), [['u123', undefined], [undefined, 'anon-1']]);
  const enriched = flipMessages(flip(true), audience, { ...connection, enrichTraits: ['plan', 'missing'] }, target, of).map((o) => o.message);
  assert.equal(enriched[0]!['traits'], { plan: 'pro', first_time_shopper: true });
  assert.equal(enriched[1]!['properties'], { plan: 'pro', audience_key: 'first_time_shopper', first_time_shopper: true });
  const again = flipMessages(flip(true), audience, { ...connection, enrichTraits: ['plan', 'missing'] }, target, of).map((o) => o.message.messageId);
  assert.equal(again, enriched.map((m) => m.messageId));
  const elsewhere = flipMessages(flip(true), audience, { ...connection, enrichTraits: ['plan', 'missing'] }, { ...target, destinationId: 'dst_2' }, of).map((o) => o.message.messageId);
  assert.not.ok(elsewhere.some((id) => again.includes(id)), 'another destination: other ids');
});

test('accounts: Group per account with the key, and Identify per user of the account when asked (§4.4)', () => {
  const accountFacts: Record<string, ProfileFacts> = {
    'group_id:acme': { identifiers: [{ type: 'group_id', value: 'acme', at: 0 }], traits: { industry: 'tools' } },
    p1: facts['p1']!,
    p2: { identifiers: [{ type: 'user_id', value: 'u456', at: 0 }], traits: {} },
  };
  const account: Computation = { id: 'aud_acc', key: 'big_accounts', kind: 'audience', target: 'ACCOUNTS' };
  const f = { id: 'x', profileId: 'group_id:acme', at: 0, value: true, users: ['p1', 'p2'] };
  const c = { ...connection, group: true, accountUsers: true, track: false, enrichTraits: ['industry'] };
  const messages = flipMessages(f, account, c, target, (id) => accountFacts[id]!).map((o) => o.message);
  assert.equal(shape(messages[0]!), { type: 'group', groupId: 'acme', userId: 'u123', traits: { industry: 'tools', big_accounts: true }, context: { personas: personas(account) } });
  assert.equal(messages.slice(1).map((m) => [m.type, m['userId'], (m['traits'] as Record<string, unknown>)['big_accounts']]), [['identify', 'u123', true], ['identify', 'u456', true]]);
});

test('identifiers: from the graph record (first spelling), or read off a direct profile id', () => {
  const reader = { identityProfile: (_: string, id: string) => (id === 'use_1' ? { v: 1, c: 0, t: 0, m: '', n: 0, groups: [], ids: [['email', 'ann@x.com', 5, 'm', null, 'Ann@X.com'] as [string, string, number, string, string | null, string | null]] } : undefined) };
  assert.equal(profileIdentifiers(reader, 's', 'use_1'), [{ type: 'email', value: 'Ann@X.com', at: 5 }]);
  assert.equal(profileIdentifiers(reader, 's', 'user_id:bob'), [{ type: 'user_id', value: 'bob', at: 0 }]);
  assert.equal(chooseIdentifiers([], connection, false), []);
});

test.run();
