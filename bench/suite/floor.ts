/** The floor of the engine's per-event work, as a hand-written loop: what any audience engine must do for an event and no more. */
import type { LoggedEvent } from '../../engine/log/event-log.ts';
import type { Plan } from '../../engine/plan/plan.ts';

/**
 * Per event: find the profile by its first identifier (a map lookup, created on first sight) and add
 * one to a counter for each aggregate node of the plan the event's name feeds — no windows, filters,
 * identity graph, evaluation, timers or checkpoints. Fed decoded batches by a log tail.
 */
export function minimalWork(plan: Plan): (batch: readonly LoggedEvent[]) => void {
  const profiles = new Map<string, Float64Array>();
  const nodes = plan.aggregates.length;
  return (batch) => {
    for (const { event } of batch) {
      const id = event.userId ?? event.anonymousId;
      if (id === null) continue;
      let counters = profiles.get(id);
      if (counters === undefined) profiles.set(id, (counters = new Float64Array(nodes)));
      const fed = event.event === null ? undefined : plan.aggregatesByEvent.get(event.event);
      if (fed !== undefined) for (const i of fed) counters[i]! += 1;
    }
  };
}
