/** Account-level audiences and computed traits: the seed's at-risk accounts, ANY/ALL/none, a user in two accounts, merges, window expiry, user traits as reducer arguments. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDefinition } from '../../engine/lang/index.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import { base, identify, track } from '../support/events.ts';
import { defineQuery, recordingRuntime } from '../support/runtime-harness.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-05-01T00:00:00Z');

const define = (key: string, query: string, kind: 'audience' | 'trait' = 'audience', target: 'USERS' | 'ACCOUNTS' = 'ACCOUNTS') => defineQuery(key, query, kind, target);

const group = (userId: string, groupId: string, ts: number, traits: Record<string, unknown> = {}) =>
  base({ type: 'group', event: null, userId, groupId, traits, timestamp: ts });

function engine(defs: DefinitionInput[]) {
  const { rt, changes } = recordingRuntime(defs);
  const send = (e: ReturnType<typeof track>) => rt.replay([{ event: e, profileId: e.userId! }]);
  const log = (id: string) =>
    changes.filter((c) => c.profileId === id).map((c) => `${c.kind === 'trait' ? `${c.traitKey}=${JSON.stringify(c.value)}` : `${c.kind} ${c.audienceKey}`} @${(c.at - T0) / DAY}d`);
  return { rt, changes, send, log };
}

test('at-risk accounts (the seed): on the business plan and none of the users logged in within 30 days — the account enters when its last active user goes quiet', () => {
  const { rt, send, log, changes } = engine([define('at_risk', "trait('plan') = 'business' AND ALL NOT event('Logged In').within(30 days).count() >= 1")]);
  send(group('ann', 'acme', T0, { plan: 'business' }));
  send(group('bob', 'acme', T0));
  send(track('ann', 'Logged In', T0 + DAY));
  send(track('bob', 'Logged In', T0 + 5 * DAY));
  send(group('cy', 'initech', T0, { plan: 'free' }));
  rt.advanceTo(T0 + 60 * DAY);
  // enters at once (no login yet), leaves at ann's login, enters 30 days after bob's (the last) login
  assert.equal(log('group_id:acme'), ['enter at_risk @0d', 'exit at_risk @1d', 'enter at_risk @35d']);
  assert.equal(log('group_id:initech'), []);
  const last = changes.filter((c) => c.profileId === 'group_id:acme').at(-1)!;
  assert.is(last.collection, 'accounts');
  assert.equal([...(last.users ?? [])].sort(), ['ann', 'bob'], 'account changes list the account’s users');
});

test('ANY, ALL and ALL NOT over the users of an account', () => {
  const { rt, send, log } = engine([
    define('any_buyer', "ANY event('Order Completed').count() >= 1"),
    define('all_buyers', "ALL event('Order Completed').count() >= 1"),
    define('no_buyer', "ALL NOT event('Order Completed').count() >= 1"),
  ]);
  send(group('u1', 'g', T0));
  send(group('u2', 'g', T0 + DAY));
  send(track('u1', 'Order Completed', T0 + 2 * DAY));
  send(track('u2', 'Order Completed', T0 + 3 * DAY));
  rt.advanceTo(T0 + 10 * DAY);
  // (changes of one instant come in definition order)
  assert.equal(log('group_id:g'), ['enter no_buyer @0d', 'enter any_buyer @2d', 'exit no_buyer @2d', 'enter all_buyers @3d']);
});

test('a user in two accounts counts for both; account traits are the group calls’ traits', () => {
  const { rt, send, log } = engine([
    define('active', "ANY event('Logged In').within(7 days).count() >= 1 AND trait('tier') = 'gold'"),
    define('logins', "event('Logged In').within(7 days).count()", 'trait'),
  ]);
  send(group('u', 'a', T0, { tier: 'gold' }));
  send(group('u', 'b', T0, { tier: 'gold' }));
  send(group('v', 'b', T0));
  send(track('u', 'Logged In', T0 + DAY));
  send(track('v', 'Logged In', T0 + 2 * DAY));
  rt.advanceTo(T0 + 20 * DAY);
  // (a computed trait has a value once one of the account's users performed the event)
  assert.equal(log('group_id:a'), ['enter active @1d', 'logins=1 @1d', 'exit active @8d', 'logins=0 @8d']);
  assert.equal(log('group_id:b'), ['enter active @1d', 'logins=1 @1d', 'logins=2 @2d', 'logins=1 @8d', 'exit active @9d', 'logins=0 @9d']);
});

test('account computed traits see the events of all users, including those before they joined', () => {
  const { rt, send, log } = engine([define('revenue', "event('Order Completed').sum(property('total'))", 'trait')]);
  send(track('u', 'Order Completed', T0, { total: 10 }));
  send(track('v', 'Order Completed', T0 + DAY, { total: 5 }));
  send(group('u', 'acme', T0 + 2 * DAY));
  send(group('v', 'acme', T0 + 3 * DAY));
  rt.advanceTo(T0 + 4 * DAY);
  assert.equal(log('group_id:acme'), ['revenue=10 @2d', 'revenue=15 @3d']);
});

test('identity merges move account links: the merged user counts once', () => {
  const { rt, send, log } = engine([define('buyers', "ANY event('Order Completed').count() >= 1"), define('users_with_plan', "event('Order Completed').count()", 'trait')]);
  send(group('anon', 'acme', T0));
  send(track('anon', 'Order Completed', T0 + DAY));
  send(identify('known', T0 + 2 * DAY, {}));
  rt.advanceTo(T0 + 3 * DAY);
  rt.merge('spa_test', 'anon', 'known');
  rt.advanceTo(T0 + 4 * DAY);
  assert.equal(log('group_id:acme'), ['enter buyers @1d', 'users_with_plan=1 @1d']);
  assert.equal(rt.profile('spa_test', 'group_id:acme')!.links, ['known']);
});

test('a merge into a user of an account brings the absorbed profile\'s events to the account at once, and its later window flips', () => {
  const { rt, send, log } = engine([
    define('lapsed', "event('Logged In').between(30 days, 90 days).count() >= 1 AND event('Logged In').within(30 days).count() = 0"),
    define('logins', "event('Logged In').count()", 'trait'),
    define('any_login', "ANY event('Logged In').count() >= 1"),
  ]);
  send(group('known', 'acme', T0));
  send(track('anon', 'Logged In', T0 + DAY)); // the anonymous profile, in no account
  rt.advanceTo(T0 + 10 * DAY);
  rt.merge('spa_test', 'anon', 'known');
  rt.advanceTo(T0 + 50 * DAY);
  assert.equal(log('group_id:acme'), ['logins=1 @10d', 'enter any_login @10d', 'enter lapsed @31d']);
});

test('a user-level definition cannot read an account definition; ANY/ALL only in account definitions', () => {
  const { failures } = compilePlan([
    define('acc', "ANY event('A').count() >= 1"),
    define('usr', "trait('acc') = true", 'audience', 'USERS'),
  ]);
  assert.match(failures.get('aud_usr')!.message, /account-level definition/);
});

test('the email of the most active user: mode over each login’s user email, and the leader changes as logins leave the window', () => {
  const { rt, send, log } = engine([define('top_user_email', "event('Logged In').within(30 days).mode(trait('email'), 1)", 'trait')]);
  send(identify('ann', T0, { email: 'ann@acme.com' }));
  send(identify('bob', T0, { email: 'bob@acme.com' }));
  send(group('ann', 'acme', T0));
  send(group('bob', 'acme', T0));
  for (const d of [1, 2, 3]) send(track('ann', 'Logged In', T0 + d * DAY));
  for (const d of [20, 21]) send(track('bob', 'Logged In', T0 + d * DAY));
  rt.advanceTo(T0 + 60 * DAY);
  // day 21: ann 3, bob 2; day 31 (ann's first login is 30 days old): 2–2, the tie goes to the
  // alphabetically first email; day 32: ann 1, bob 2 — bob is the most active user, at that exact
  // instant with no event; day 51: nobody logged in within 30 days (the trait has no value)
  assert.equal(log('group_id:acme'), ['top_user_email="ann@acme.com" @1d', 'top_user_email="bob@acme.com" @32d', 'top_user_email=undefined @51d']);
});

test('a login counts with the email its user had when it was applied: a changed email, context.traits on the event itself, a user without one', () => {
  const { rt, send, log } = engine([
    define('top_user_email', "event('Logged In').within(30 days).mode(trait('email'), 2)", 'trait'),
    define('emails', "event('Logged In').within(30 days).unique(trait('email')).count()", 'trait'),
  ]);
  send(group('ann', 'acme', T0));
  send(group('cy', 'acme', T0));
  send(track('cy', 'Logged In', T0 + DAY)); // cy has no email: counts for no value
  send(track('ann', 'Logged In', T0 + 2 * DAY, {}, { context: { traits: { email: 'ann@old.com' } } })); // the event's own traits apply first
  send(track('ann', 'Logged In', T0 + 3 * DAY));
  send(identify('ann', T0 + 4 * DAY, { email: 'ann@new.com' }));
  send(track('ann', 'Logged In', T0 + 5 * DAY));
  send(track('ann', 'Logged In', T0 + 6 * DAY));
  send(track('ann', 'Logged In', T0 + 7 * DAY));
  rt.advanceTo(T0 + 40 * DAY);
  // mode needs 2 logins under one email: ann@old.com from day 3, ann@new.com (3 logins) from day 6
  // — the earlier logins keep the email they counted with; day 33: the old email's logins left the
  // window; day 36: one new-email login is left, below the minimum frequency (no value, as before day 3)
  assert.equal(log('group_id:acme'), [
    'emails=0 @1d',
    'emails=1 @2d',
    'top_user_email="ann@old.com" @3d',
    'emails=2 @5d',
    'top_user_email="ann@new.com" @6d',
    'emails=1 @33d',
    'top_user_email=undefined @36d',
    'emails=0 @37d',
  ]);
});

test('the email of the first user to sign up: over every user of the account, including users who signed up before they joined', () => {
  const { rt, send, log } = engine([
    define('first_user_email', "event('Signed Up').first(trait('email'))", 'trait'),
    define('last_user_email', "event('Signed Up').last(trait('email'))", 'trait'),
  ]);
  send(track('ann', 'Signed Up', T0 + DAY, {}, { context: { traits: { email: 'ann@acme.com' } } }));
  send(group('bob', 'acme', T0 + 2 * DAY));
  send(identify('bob', T0 + 3 * DAY, { email: 'bob@acme.com' }));
  send(track('bob', 'Signed Up', T0 + 3 * DAY));
  send(group('ann', 'acme', T0 + 4 * DAY)); // ann signed up first, and joins the account later
  send(identify('bob', T0 + 5 * DAY, { email: 'bob@new.com' })); // a later change of a trait does not rewrite the sign-up
  send(track('cy', 'Signed Up', T0 + 6 * DAY, {}, { context: { traits: { email: 'cy@acme.com' } } }));
  send(group('cy', 'acme', T0 + 6 * DAY));
  rt.advanceTo(T0 + 10 * DAY);
  assert.equal(log('group_id:acme'), [
    'first_user_email="bob@acme.com" @3d',
    'last_user_email="bob@acme.com" @3d',
    'first_user_email="ann@acme.com" @4d',
    'last_user_email="cy@acme.com" @6d',
  ]);
  assert.equal(log('ann'), [], 'account definitions emit on accounts only');
});

test('trait() as a reducer argument: a distinct node from property() of the same name; a definition key or a funnel is refused by the compiler', () => {
  const { plan } = compilePlan([
    define('by_trait', "event('A').first(trait('email'))", 'trait'),
    define('by_property', "event('A').first(property('email'))", 'trait'),
  ]);
  assert.is(plan.aggregates.length, 2);
  assert.is.not(plan.aggregates[0]!.canonical, plan.aggregates[1]!.canonical);
  assert.match(plan.aggregates[0]!.canonical, /"kind":"trait"/);
  // the reducer reads a custom trait, so it does not make the definition re-evaluate when the trait changes
  assert.equal(plan.definitions[0]!.traitKeys, []);

  const user = define('logins', "event('Logged In').count()", 'trait', 'USERS');
  const { failures } = compilePlan([user, define('top', "event('A').mode(trait('logins'), 1)", 'trait')]);
  assert.match(failures.get('tra_top')!.message, /mode\(trait\('logins'\)\) reads a custom trait of each event's user, but 'logins' is an audience or computed trait/);

  const funnel = parseDefinition("event('A').where(event('B').within(parent: 1 day).count() >= 1).first(trait('email'))", { kind: 'trait', target: 'ACCOUNTS' });
  assert.equal(funnel.diagnostics, []);
  const compiled = compilePlan([{ id: 'tra_f', key: 'f', kind: 'trait', target: 'ACCOUNTS', version: 1, definition: funnel.definition! }]);
  assert.is(compiled.failures.get('tra_f')!.code, 'unsupported');
  assert.match(compiled.failures.get('tra_f')!.message, /first\(trait\(…\)\) on a stream with funnels or references in where\(\) is not supported/);
});

test.run();
