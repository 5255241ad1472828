/** The workload of `npm run bench:cluster`: the realistic definition set's user-level definitions (accounts are computed by one process only, for now) over identity journeys. */
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import type { FlockEvent } from '../../engine/event/model.ts';
import { compileQueryDefinitions, realisticDefinitions } from '../workload/definitions.ts';
import { generateEvents } from '../workload/generator.ts';

export function userDefinitions(): DefinitionInput[] {
  return compileQueryDefinitions(realisticDefinitions().filter((d) => (d.target ?? 'USERS') === 'USERS'));
}

export function clusterEvents(events: number): FlockEvent[] {
  const end = Date.parse('2026-06-01T00:00:00Z');
  return [...generateEvents({ seed: 18, events, profiles: Math.max(100, Math.round(events / 20)), spanMs: 30 * 86_400_000, end, identity: { maxDevices: 3 } })];
}
