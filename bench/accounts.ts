/**
 * Account propagation (part of `npm run bench:engine`): 10,000 accounts × 20 users. The cost of a
 * user-level flip reaching its account's ANY / ALL / ALL NOT audiences, beside the same flips with
 * user-level definitions only — for flips caused by an event and for flips caused by time (a window
 * expiring with no event).
 */
import { eventWith, type FlockEvent } from '../engine/event/model.ts';
import { parseDefinition } from '../engine/lang/index.ts';
import { compilePlan } from '../engine/plan/compile.ts';
import type { DefinitionInput } from '../engine/plan/plan.ts';
import { Runtime, type RuntimeInput } from '../engine/runtime/runtime.ts';
import type { ResultRow } from './results.ts';

const SPACE = 'spa_bench';
const DAY = 86_400_000;
const T0 = Date.parse('2026-06-01T00:00:00Z');
const USER_CONDITION = "event('Order Completed').within(7 days).count() >= 1";

function define(key: string, query: string, target: 'USERS' | 'ACCOUNTS'): DefinitionInput {
  const parsed = parseDefinition(query, { kind: 'audience', target });
  if (parsed.definition === null) throw new Error(`${key}: ${JSON.stringify(parsed.diagnostics)}`);
  return { id: `aud_${key}`, key, kind: 'audience', target, version: 1, definition: parsed.definition };
}

function event(userId: string, ts: number, fields: Partial<FlockEvent>): RuntimeInput {
  return {
    profileId: `user_id:${userId}`,
    event: eventWith({ space: SPACE, messageId: `${userId}-${ts}-${fields.type ?? 'track'}`, userId, timestamp: ts, ...fields }),
  };
}

interface Run {
  readonly eventFlipsSeconds: number;
  readonly timeFlipsSeconds: number;
  readonly changes: number;
}

function run(definitions: readonly DefinitionInput[], accounts: number, usersPerAccount: number): Run {
  const { plan, failures } = compilePlan(definitions);
  if (failures.size > 0) throw new Error([...failures.values()].map((f) => f.message).join('; '));
  let changes = 0;
  const runtime = new Runtime({ plans: new Map([[SPACE, plan]]), onChange: () => changes++ });
  const user = (a: number, i: number) => `u${a}_${i}`;
  // Links: one group call per user (not measured).
  const links: RuntimeInput[] = [];
  for (let a = 0; a < accounts; a++) for (let i = 0; i < usersPerAccount; i++) links.push(event(user(a, i), T0, { type: 'group', groupId: `acc_${a}`, traits: { plan: 'pro' } }));
  for (let i = 0; i < links.length; i += 2000) runtime.replay(links.slice(i, i + 2000));
  runtime.advanceTo(T0 + 1000);
  runtime.close();
  changes = 0;
  // Event flips: every user's first order flips the user-level condition (users in random order).
  const orders: RuntimeInput[] = [];
  const order = Array.from({ length: accounts * usersPerAccount }, (_, k) => k);
  let seed = 42;
  for (let k = order.length - 1; k > 0; k--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (k + 1);
    [order[k], order[j]] = [order[j]!, order[k]!];
  }
  order.forEach((k, n) => orders.push(event(user(Math.floor(k / usersPerAccount), k % usersPerAccount), T0 + DAY + n, { event: 'Order Completed', properties: { total: 10 } })));
  let start = performance.now();
  for (let i = 0; i < orders.length; i += 1000) runtime.replay(orders.slice(i, i + 1000));
  runtime.close();
  const eventFlipsSeconds = (performance.now() - start) / 1000;
  // Time flips: 7 days later every order leaves its window, with no event.
  start = performance.now();
  runtime.advanceTo(T0 + 9 * DAY);
  runtime.close();
  const timeFlipsSeconds = (performance.now() - start) / 1000;
  return { eventFlipsSeconds, timeFlipsSeconds, changes };
}

export function accountPropagation(accounts = 10_000, usersPerAccount = 20): ResultRow[] {
  const users = accounts * usersPerAccount;
  const userOnly = [define('buyer', USER_CONDITION, 'USERS')];
  const withAccounts = [
    ...userOnly,
    define('any_buyer', `ANY ${USER_CONDITION}`, 'ACCOUNTS'),
    define('all_buyers', `ALL ${USER_CONDITION}`, 'ACCOUNTS'),
    define('no_buyer', `ALL NOT ${USER_CONDITION}`, 'ACCOUNTS'),
  ];
  const base = run(userOnly, accounts, usersPerAccount);
  const acc = run(withAccounts, accounts, usersPerAccount);
  const us = (seconds: number) => (seconds * 1e6) / users;
  const label = `${accounts.toLocaleString('en-US')} accounts × ${usersPerAccount} users`;
  return [
    {
      measurement: `accounts: a user's order flips its condition and reaches its account's ANY / ALL / ALL NOT audiences (${label})`,
      value: `${us(acc.eventFlipsSeconds).toFixed(2)} µs per flip`,
      note: `user-level audience only: ${us(base.eventFlipsSeconds).toFixed(2)} µs → propagation adds ${us(acc.eventFlipsSeconds - base.eventFlipsSeconds).toFixed(2)} µs; ${acc.changes.toLocaleString('en-US')} changes in all (${base.changes.toLocaleString('en-US')} user-level)`,
    },
    {
      measurement: `accounts: the same flips caused by time (every order leaves its 7-day window, no event)`,
      value: `${us(acc.timeFlipsSeconds).toFixed(2)} µs per flip`,
      note: `user-level audience only: ${us(base.timeFlipsSeconds).toFixed(2)} µs → propagation adds ${us(acc.timeFlipsSeconds - base.timeFlipsSeconds).toFixed(2)} µs`,
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of accountPropagation(Number(process.argv[2] ?? 10_000), Number(process.argv[3] ?? 20))) console.log(`${r.measurement}\n  ${r.value}  ${r.note ?? ''}`);
}
