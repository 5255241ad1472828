/** Account-level audiences and computed traits: the seed's at-risk accounts, ANY/ALL/none, a user in two accounts, merges, window expiry. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDefinition } from '../../engine/lang/index.ts';
import { compilePlan } from '../../engine/plan/compile.ts';
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import { Runtime } from '../../engine/runtime/runtime.ts';
import type { Change } from '../../engine/runtime/change.ts';
import { base, identify, track } from '../support/events.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-05-01T00:00:00Z');

function define(key: string, query: string, kind: 'audience' | 'trait' = 'audience', target: 'USERS' | 'ACCOUNTS' = 'ACCOUNTS'): DefinitionInput {
  const r = parseDefinition(query, { kind, target });
  assert.ok(r.definition, `${query}: ${JSON.stringify(r.diagnostics)}`);
  return { id: `${kind === 'audience' ? 'aud' : 'tra'}_${key}`, key, kind, target, version: 1, definition: r.definition! };
}

const group = (userId: string, groupId: string, ts: number, traits: Record<string, unknown> = {}) =>
  base({ type: 'group', event: null, userId, groupId, traits, timestamp: ts });

function engine(defs: DefinitionInput[]) {
  const { plan, failures } = compilePlan(defs);
  assert.is(failures.size, 0, [...failures.values()].map((f) => f.message).join('; '));
  const changes: Change[] = [];
  const rt = new Runtime({ plans: new Map([['spa_test', plan]]), onChange: (c) => changes.push(c) });
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

test('a user-level definition cannot read an account definition; ANY/ALL only in account definitions', () => {
  const { failures } = compilePlan([
    define('acc', "ANY event('A').count() >= 1"),
    define('usr', "trait('acc') = true", 'audience', 'USERS'),
  ]);
  assert.match(failures.get('aud_usr')!.message, /account-level definition/);
});

test.run();
