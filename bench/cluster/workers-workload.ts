/**
 * The workload of `npm run bench:cluster`: the realistic definition set over identity journeys — its
 * user-level definitions, or with `--accounts` the whole set (its account audiences and traits too)
 * over users who belong to accounts (group calls).
 */
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import type { FlockEvent } from '../../engine/event/model.ts';
import { compileQueryDefinitions, realisticDefinitions } from '../workload/definitions.ts';
import { generateEvents } from '../workload/generator.ts';

export function clusterDefinitions(accounts: boolean): DefinitionInput[] {
  return compileQueryDefinitions(realisticDefinitions().filter((d) => accounts || (d.target ?? 'USERS') === 'USERS'));
}

/** `accounts`: 2 % of the calls are group calls; each user's account is fixed, about 12 users to an account (linked from their first group call on). */
export function clusterEvents(events: number, accounts: boolean): FlockEvent[] {
  const end = Date.parse('2026-06-01T00:00:00Z');
  const profiles = Math.max(100, Math.round(events / 20));
  return [
    ...generateEvents({
      seed: 18,
      events,
      profiles,
      spanMs: 30 * 86_400_000,
      end,
      identity: { maxDevices: 3 },
      ...(accounts ? { accounts: { count: Math.max(10, Math.round(profiles / 12)), groupShare: 0.02 } } : {}),
    }),
  ];
}
