/** The identity graph's rules, one test per documented rule and example: create, attach, merge, demotion, merge protection, limits, aliases, accounts, lookups. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IdentityGraph } from '../../../engine/identity/identity-graph.ts';
import { profileExternalIds, lookupProfile } from '../../../engine/identity/lookup.ts';
import { isProfileId, profileIdFor } from '../../../engine/identity/profile-id.ts';
import { identityRules, type IdentityRulesConfig } from '../../../engine/identity/rules.ts';
import type { FlockEvent } from '../../../engine/event/model.ts';
import { base } from '../../support/events.ts';

const S = 'spa_test';
const T0 = Date.parse('2026-03-01T00:00:00Z');
const DAY = 86_400_000;
let clock = T0;

function graph(config?: IdentityRulesConfig): IdentityGraph {
  if (config === undefined) return new IdentityGraph();
  const r = identityRules(config);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return new IdentityGraph({ rules: new Map([[S, r.rules]]) });
}
/** A track call with the given identifiers, one second after the previous one unless `at` is given. */
function ev(ids: { userId?: string; anonymousId?: string; email?: string; at?: number; type?: FlockEvent['type']; groupId?: string; previousId?: string; phone?: string }): FlockEvent {
  clock = ids.at ?? clock + 1000;
  const context: Record<string, unknown> = {};
  if (ids.email !== undefined) context['traits'] = { email: ids.email };
  if (ids.phone !== undefined) context['externalIds'] = [{ id: ids.phone, type: 'phone', collection: 'users', encoding: 'none' }];
  return base({
    type: ids.type ?? 'track',
    event: ids.type === undefined || ids.type === 'track' ? 'Viewed' : null,
    userId: ids.userId ?? null,
    anonymousId: ids.anonymousId ?? null,
    groupId: ids.groupId ?? null,
    previousId: ids.previousId ?? null,
    context: Object.keys(context).length === 0 ? null : context,
    timestamp: clock,
  });
}
const owner = (g: IdentityGraph, type: string, value: string) => g.identifierOwner(S, type, value);
const idsOf = (g: IdentityGraph, id: string) => profileExternalIds(g, S, id)!.map((x) => `${x.type}:${x.id}`);

test('anonymous → identified: the anonymous profile gets the user id and email (no merge)', () => {
  const g = graph();
  const visit = ev({ anonymousId: 'a1' });
  const p = g.resolve(visit);
  assert.ok(p.profileId !== null && isProfileId(p.profileId));
  assert.is(p.profileId, profileIdFor(S, visit.messageId, 'anonymous_id', 'a1'), 'id = f(space, creating message, top identifier)');
  const signup = g.resolve(ev({ userId: 'u1', anonymousId: 'a1', email: 'Jane@Example.com' }));
  assert.equal(signup, { profileId: p.profileId, merges: [] });
  assert.equal(idsOf(g, p.profileId!), ['anonymous_id:a1', 'user_id:u1', 'email:Jane@Example.com']);
  assert.is(g.stats.created, 1);
});

test('canonical ids are deterministic: the same events give the same ids in a fresh graph', () => {
  const events = [ev({ anonymousId: 'a1' }), ev({ anonymousId: 'a2' }), ev({ userId: 'u1', anonymousId: 'a1' }), ev({ userId: 'u1', anonymousId: 'a2' })];
  const run = () => {
    const g = graph();
    return events.map((e) => g.resolve(e));
  };
  assert.equal(run(), run());
});

test('two profiles matched → merged into the earliest created; the merge is returned and kept in history', () => {
  const g = graph();
  const p1 = g.resolve(ev({ anonymousId: 'laptop' })).profileId!;
  const p2 = g.resolve(ev({ anonymousId: 'phone' })).profileId!;
  assert.is.not(p1, p2);
  g.resolve(ev({ userId: 'u1', anonymousId: 'laptop' }));
  const merge = ev({ userId: 'u1', anonymousId: 'phone' });
  const r = g.resolve(merge);
  assert.equal(r, { profileId: p1, merges: [{ space: S, from: p2, into: p1 }] });
  assert.is(owner(g, 'anonymous_id', 'phone'), p1);
  assert.equal(g.identityMerge(S, p2), { into: p1, at: merge.timestamp, messageId: merge.messageId, eventType: 'track' });
  assert.is(g.identityProfile(S, p2), undefined);
  assert.is(g.identityProfile(S, p1)!.n, 1);
  assert.equal(lookupProfile(g, S, p2), { ok: true, profileId: p1, mergedFrom: p2 });
  assert.equal(g.resolve(ev({ anonymousId: 'phone' })), { profileId: p1, merges: [] });
});

test('one event may merge three profiles; merge chains resolve to the last survivor', () => {
  const g = graph();
  const [a, b, c] = ['a', 'b', 'c'].map((x) => g.resolve(ev({ anonymousId: x })).profileId!) as [string, string, string];
  const r = g.resolve(ev({ anonymousId: 'b', email: 'e@example.com', phone: '1' }));
  assert.is(r.profileId, b);
  g.resolve(ev({ anonymousId: 'c', email: 'f@example.com' }));
  const all = g.resolve(ev({ email: 'f@example.com', phone: '1', userId: 'u1', anonymousId: 'a' }));
  assert.equal(all, { profileId: a, merges: [{ space: S, from: b, into: a }, { space: S, from: c, into: a }] });
  assert.is(g.identityProfile(S, a)!.n, 2);
  // b → a directly; a later merge of a would chain through it
  assert.equal(lookupProfile(g, S, b), { ok: true, profileId: a, mergedFrom: b });
});

test('priority demotion — the documented example: a second user_id on the event demotes email, a new profile is created', () => {
  const g = graph();
  const jane = g.resolve(ev({ userId: 'abc123', email: 'jane@example1.com' })).profileId!;
  const r = g.resolve(ev({ userId: 'abc456', email: 'jane@example1.com' }));
  assert.ok(r.profileId !== null && r.profileId !== jane, 'a new profile');
  assert.equal(r.merges, []);
  assert.equal(idsOf(g, r.profileId!), ['user_id:abc456'], 'only user_id abc456: email was demoted');
  assert.equal(idsOf(g, jane), ['user_id:abc123', 'email:jane@example1.com']);
  assert.equal(g.stats.demotions, { 'limit:user_id': 1 });
});

test('merge protection — a shared, never-reset anonymous_id does not join two users', () => {
  const g = graph();
  const u1 = g.resolve(ev({ userId: 'u1', anonymousId: 'kiosk' })).profileId!;
  const u2 = g.resolve(ev({ userId: 'u2', anonymousId: 'kiosk' })).profileId!;
  assert.is.not(u1, u2);
  assert.equal(idsOf(g, u2), ['user_id:u2']);
  assert.is(owner(g, 'anonymous_id', 'kiosk'), u1, 'the device stays with its first user');
  assert.is(g.resolve(ev({ anonymousId: 'kiosk' })).profileId, u1);
});

test('merge protection refuses a merge joining two user_ids even when a windowed user_id limit would allow it', () => {
  const config = { identifiers: { user_id: { limit: 1, window: 'weekly' as const } } };
  const run = (mergeProtection: boolean) => {
    const g = graph({ ...config, mergeProtection });
    const p1 = g.resolve(ev({ userId: 'u1', email: 'one@example.com', at: T0 })).profileId!;
    const p2 = g.resolve(ev({ userId: 'u2', anonymousId: 'x', at: T0 + 1000 })).profileId!;
    const r = g.resolve(ev({ email: 'one@example.com', anonymousId: 'x', at: T0 + 8 * DAY }));
    return { g, p1, p2, r };
  };
  const on = run(true);
  assert.equal(on.r, { profileId: on.p1, merges: [] }, 'refused: anonymous_id x is demoted, email matches p1 alone');
  assert.equal(on.g.stats.demotions, { merge_protection: 1 });
  const off = run(false);
  assert.equal(off.r, { profileId: off.p1, merges: [{ space: S, from: off.p2, into: off.p1 }] }, 'without merge protection the window allows it');
});

test('a windowed limit lets a profile take a new value once the old ones are older than the window', () => {
  const g = graph({ identifiers: { user_id: { limit: 1, window: 'weekly' } } });
  const p = g.resolve(ev({ userId: 'old', email: 'e@example.com', at: T0 })).profileId!;
  const early = g.resolve(ev({ userId: 'new', email: 'e@example.com', at: T0 + 6 * DAY }));
  assert.is.not(early.profileId, p, 'within the week: refused');
  const late = g.resolve(ev({ userId: 'newer', email: 'e@example.com', at: T0 + 8 * DAY }));
  assert.is(late.profileId, p, 'after the week: attached');
  assert.equal(idsOf(g, p), ['user_id:old', 'email:e@example.com', 'user_id:newer']);
});

test('per-type limit: a sixth anonymous_id is demoted, the event still resolves to the user', () => {
  const g = graph();
  const p = g.resolve(ev({ userId: 'u1', anonymousId: 'a1' })).profileId!;
  for (const a of ['a2', 'a3', 'a4', 'a5']) assert.is(g.resolve(ev({ userId: 'u1', anonymousId: a })).profileId, p);
  assert.is(g.resolve(ev({ userId: 'u1', anonymousId: 'a6' })).profileId, p);
  assert.is(owner(g, 'anonymous_id', 'a6'), undefined, 'a6 was not added');
  assert.equal(g.stats.demotions, { 'limit:anonymous_id': 1 });
  assert.is.not(g.resolve(ev({ anonymousId: 'a6' })).profileId, p, 'alone, a6 starts a profile of its own');
});

test('per-type limit on a merge: two profiles whose emails together exceed the limit stay apart', () => {
  const g = graph({ identifiers: { email: { limit: 1 } } });
  const p1 = g.resolve(ev({ anonymousId: 'a1', email: 'one@example.com' })).profileId!;
  const p2 = g.resolve(ev({ anonymousId: 'a2', email: 'two@example.com' })).profileId!;
  const r = g.resolve(ev({ anonymousId: 'a1', phone: '555', email: 'two@example.com' }));
  // sorted: email two, anonymous a1, phone 555 → demote phone (still 2 emails) → demote a1 → email two alone
  assert.equal(r, { profileId: p2, merges: [] });
  assert.equal(g.stats.demotions, { 'limit:email': 2 });
  assert.is(owner(g, 'anonymous_id', 'a1'), p1);
});

test('merge limit: a profile absorbs at most maxMerges profiles (Segment: 100)', () => {
  const g = graph({ maxMerges: 2 });
  const anon = ['a1', 'a2', 'a3', 'a4'].map((a) => g.resolve(ev({ anonymousId: a })).profileId!);
  g.resolve(ev({ userId: 'u1', anonymousId: 'a1' }));
  assert.is(g.resolve(ev({ userId: 'u1', anonymousId: 'a2' })).merges.length, 1);
  assert.is(g.resolve(ev({ userId: 'u1', anonymousId: 'a3' })).merges.length, 1);
  const refused = g.resolve(ev({ userId: 'u1', anonymousId: 'a4' }));
  assert.equal(refused, { profileId: anon[0]!, merges: [] });
  assert.equal(g.stats.demotions, { merge_limit: 1 });
  assert.is(owner(g, 'anonymous_id', 'a4'), anon[3]);
});

test('identifier limit: past maxIdentifiers no more are added and events still resolve; a merge past it is refused', () => {
  const g = graph({ maxIdentifiers: 3, identifiers: { anonymous_id: { limit: 10 } } });
  const p = g.resolve(ev({ userId: 'u1', anonymousId: 'a1' })).profileId!;
  g.resolve(ev({ userId: 'u1', anonymousId: 'a2' }));
  assert.is(g.resolve(ev({ userId: 'u1', anonymousId: 'a3' })).profileId, p);
  assert.is(owner(g, 'anonymous_id', 'a3'), undefined);
  assert.is(g.stats.dropped, 1);
  const q = g.resolve(ev({ anonymousId: 'b1', email: 'b@example.com' })).profileId!;
  const r = g.resolve(ev({ userId: 'u1', anonymousId: 'b1' }));
  assert.equal(r, { profileId: p, merges: [] }, '3 + 2 identifiers would exceed 3');
  assert.equal(g.stats.demotions, { identifier_limit: 1 });
  assert.is(owner(g, 'anonymous_id', 'b1'), q);
});

test('alias calls do not merge: previousId is ignored, the call resolves by its userId', () => {
  const g = graph();
  const anon = g.resolve(ev({ anonymousId: 'a1' })).profileId!;
  const r = g.resolve(ev({ type: 'alias', userId: 'u9', previousId: 'a1' }));
  assert.ok(r.profileId !== null && r.profileId !== anon);
  assert.equal(r.merges, []);
});

test('blocked values identify nobody: the event is skipped; mixed with a good id, only the good one counts', () => {
  const g = graph();
  const skipped = g.resolve(ev({ userId: 'null', anonymousId: '00000000' }));
  assert.equal([skipped.profileId, skipped.merges, skipped.skip?.code], [null, [], 'blocked_identifier']);
  assert.is(g.stats.unidentified, 1);
  const p = g.resolve(ev({ userId: 'u1', anonymousId: 'anonymous' })).profileId!;
  const q = g.resolve(ev({ userId: 'u2', anonymousId: 'anonymous' })).profileId!;
  assert.is.not(p, q, 'a blocked anonymous id joins nobody');
  assert.is(owner(g, 'anonymous_id', 'anonymous'), undefined);
});

test('group calls record the account and the user ↔ account link; a merge moves the link', () => {
  const g = graph();
  const a = g.resolve(ev({ anonymousId: 'a1' })).profileId!;
  const b = g.resolve(ev({ type: 'group', anonymousId: 'a2', groupId: 'ACME' })).profileId!;
  assert.ok(g.account(S, 'acme') !== undefined);
  assert.equal(g.identityProfile(S, b)!.groups.map((l) => l[0]), ['acme']);
  assert.is(g.identifierOwner(S, 'group_id', 'acme'), undefined, 'group_id is not a user identifier');
  g.resolve(ev({ userId: 'u1', anonymousId: 'a1' }));
  g.resolve(ev({ userId: 'u1', anonymousId: 'a2' }));
  assert.equal(g.identityProfile(S, a)!.groups.map((l) => l[0]), ['acme']);
  const writes = g.checkpointWrites();
  assert.equal(
    writes.accountUsers.map((u) => `${u.groupId} ${u.profileId === a ? 'a' : 'b'} ${u.record === null ? 'removed' : 'linked'}`).sort(),
    ['acme a linked', 'acme b removed'],
  );
  assert.equal(writes.accounts.map((x) => x.groupId), ['acme']);
});

test('checkpointWrites: everything changed since the last call, once', () => {
  const g = graph();
  const p1 = g.resolve(ev({ anonymousId: 'a1' })).profileId!;
  const p2 = g.resolve(ev({ anonymousId: 'a2' })).profileId!;
  g.resolve(ev({ userId: 'u1', anonymousId: 'a1' }));
  const first = g.checkpointWrites();
  assert.equal(first.profiles.map((p) => p.id).sort(), [p1, p2].sort());
  assert.equal(first.identifiers.map((i) => `${i.type}:${i.value}`).sort(), ['anonymous_id:a1', 'anonymous_id:a2', 'user_id:u1']);
  assert.equal(first.counters, [{ space: S, next: 2 }]);
  g.resolve(ev({ userId: 'u1', anonymousId: 'a2' }));
  const second = g.checkpointWrites();
  assert.equal(Object.fromEntries(second.profiles.map((p) => [p.id, p.record === null ? 'deleted' : 'written'])), { [p1]: 'written', [p2]: 'deleted' });
  assert.equal(second.identifiers.map((i) => [`${i.type}:${i.value}`, i.profileId]), [['anonymous_id:a2', p1]]);
  assert.equal(second.merges.map((m) => [m.from, m.record.into]), [[p2, p1]]);
  assert.equal(second.counters, []);
  assert.equal(g.checkpointWrites().profiles, []);
  assert.equal(g.resolve(ev({ userId: 'u1' })), { profileId: p1, merges: [] });
  assert.equal(g.checkpointWrites().profiles, [], 'a known identifier changes nothing');
});

test('lookups: type:value (percent-decoded, lowercased), segment ids, external ids with first seen; unknown and malformed ids are errors', () => {
  const g = graph();
  const signup = ev({ userId: 'Alex', email: 'Alex@Example.com', phone: '+15550100' });
  const p = g.resolve(signup).profileId!;
  assert.equal(lookupProfile(g, S, 'email:alex@example.com'), { ok: true, profileId: p });
  assert.equal(lookupProfile(g, S, 'email:ALEX%40example.com'), { ok: true, profileId: p });
  assert.equal(lookupProfile(g, S, 'user_id:alex'), { ok: true, profileId: p });
  assert.equal(lookupProfile(g, S, 'phone:%2B15550100'), { ok: true, profileId: p });
  assert.equal(lookupProfile(g, S, p), { ok: true, profileId: p });
  const notFound = { ok: false, error: { code: 'not_found', message: 'Profile was not found.' } };
  assert.equal(lookupProfile(g, S, 'email:nobody@example.com'), notFound);
  assert.equal(lookupProfile(g, S, 'phone:+15550100 '), notFound);
  assert.equal(lookupProfile(g, S, `use_${'0'.repeat(27)}`), notFound);
  assert.equal(lookupProfile(g, 'spa_other', 'user_id:alex'), notFound, 'spaces are separate');
  for (const bad of ['alex', ':alex', 'user_id:', 'User_Id:alex', '%E0%A4%A:x']) {
    const r = lookupProfile(g, S, bad);
    assert.is(r.ok ? 'ok' : r.error.code, 'invalid_identifier', bad);
  }
  assert.equal(profileExternalIds(g, S, p), [
    { type: 'user_id', id: 'Alex', collection: 'users', encoding: 'none', createdAt: signup.timestamp, firstMessageId: signup.messageId },
    { type: 'email', id: 'Alex@Example.com', collection: 'users', encoding: 'none', createdAt: signup.timestamp, firstMessageId: signup.messageId },
    { type: 'phone', id: '+15550100', collection: 'users', encoding: 'none', createdAt: signup.timestamp, firstMessageId: signup.messageId },
  ]);
  assert.is(profileExternalIds(g, S, `use_${'0'.repeat(27)}`), undefined);
});

test('lookups of identifiers already percent-decoded (a router parameter): a literal + or % is the value', () => {
  const g = graph();
  const p = g.resolve(ev({ userId: '100%', phone: '+15550100' })).profileId!;
  assert.equal(lookupProfile(g, S, 'phone:+15550100', { decoded: true }), { ok: true, profileId: p });
  assert.equal(lookupProfile(g, S, 'user_id:100%', { decoded: true }), { ok: true, profileId: p });
  assert.is(lookupProfile(g, S, 'user_id:100%').ok, false, 'undecoded, a bare % is malformed');
  assert.equal(lookupProfile(g, S, 'user_id:100%25'), { ok: true, profileId: p });
});

test('an id already taken (by a profile or a merged-away one) is never reused: the next attempt is taken', () => {
  const e = ev({ anonymousId: 'same' });
  const taken = profileIdFor(S, e.messageId, 'anonymous_id', 'same');
  const mergedAway = profileIdFor(S, e.messageId, 'anonymous_id', 'same', 1);
  // (The graph itself never repeats a (message, top identifier) pair: the top identifier is attached at once.)
  const g = new IdentityGraph({
    source: {
      identifierOwner: () => undefined,
      identityProfile: (_s, id) => (id === taken ? { v: 1, c: 0, t: 0, m: 'm', n: 0, ids: [], groups: [] } : undefined),
      identityMerge: (_s, id) => (id === mergedAway ? { into: taken, at: 0, messageId: 'm', eventType: 'track' } : undefined),
      identityCounter: () => 1,
      account: () => undefined,
    },
  });
  assert.is(g.resolve(e).profileId, profileIdFor(S, e.messageId, 'anonymous_id', 'same', 2));
  assert.equal(g.checkpointWrites().counters, [{ space: S, next: 2 }], 'the creation counter continues from the source');
});

test.run();
