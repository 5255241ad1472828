/**
 * RxJS stage of a partitioned worker: applies resolved records at the instants the identity stage
 * decided (instead of resolving and timing events itself). An event: time moves to its instant,
 * the states it waits for are taken in — absorbed profiles of other partitions, and a user this
 * worker starts shadowing —, the merges and the event are applied: what `Runtime.replay` does in
 * one process. A watermark moves time. A prepare publishes the states other workers lack for the
 * next event, as they are before it; a handover detaches the absorbed profile at its instant and
 * publishes its state. (`publish` takes the state records; the engine appends them to the log.)
 *
 * The batch it reports lists the events of this worker's own profiles only: a shadow's events are
 * applied here too (its accounts read it) but are its own worker's to count and index.
 */
import { map, type OperatorFunction } from 'rxjs';
import type { LogRecord } from '../log/append-log.ts';
import type { LoggedEvent } from '../log/event-log.ts';
import type { ProfileMerge } from '../identity/resolver.ts';
import { profileFromPlain, profileToPlain } from '../runtime/profile-state.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { lackingTargets, stateRecords } from '../cluster/resolved-records.ts';
import type { EvaluatedBatch } from './evaluate-batch.ts';
import type { ResolvedEvent } from './resolve-profiles.ts';

export function applyResolved(
  runtime: Runtime,
  publish: (records: readonly LogRecord[]) => void,
  /**
   * as `evaluateBatch`'s: a batch whose newest event was received longer ago than `catchUpLagMs` is
   * catching up (larger checkpoints); `owns`: the profiles of the worker's partitions (unset: all).
   */
  options: { readonly clock: () => number; readonly catchUpLagMs: number; readonly owns?: (id: string) => boolean; readonly partitions: number },
  /**
   * per resolved partition, the order of the last record applied (the engine checkpoints it): a
   * record at or before it is a copy the identity stage published again (after its duplicate
   * window, so the log kept it) and is skipped.
   */
  applied: Map<number, number>,
): OperatorFunction<readonly LoggedEvent[], EvaluatedBatch> {
  let catchingUp = true;
  const owns = options.owns;
  const partitions = options.partitions;
  return map((batch) => {
    const events: ResolvedEvent[] = [];
    const merges: ProfileMerge[] = [];
    const instants: number[] = [];
    let lastSeq = 0;
    for (const entry of batch) {
      const r = entry.resolved;
      if (r === undefined) throw new Error(`worker: log position ${entry.seq} is not a resolved record`);
      if (entry.seq > lastSeq) lastSeq = entry.seq;
      switch (r.kind) {
        case 'skip':
          break;
        case 'watermark':
          runtime.advanceTo(r.at);
          break;
        case 'prepare':
          // (the next event's instant: what is due before it has fired, as it will have when it is applied)
          runtime.advanceTo(r.at);
          for (const t of r.publish) {
            const copy = runtime.copy(t.space, t.from);
            publish(stateRecords(t, copy?.state ?? null, copy?.pending ?? null));
          }
          break;
        case 'handover': {
          if (r.order <= (applied.get(r.partition) ?? -1)) break;
          applied.set(r.partition, r.order);
          runtime.advanceTo(r.at);
          const state = runtime.detach(r.space, r.from);
          const to = lackingTargets(r.targets, r.from, r.into, r.have, partitions);
          if (to.length > 0) publish(stateRecords({ space: r.space, from: r.from, into: r.into, messageId: r.messageId, order: r.eventOrder, have: r.have, to }, state === undefined ? null : profileToPlain(state), null));
          break;
        }
        case 'event': {
          if (r.order <= (applied.get(r.partition) ?? -1)) break;
          applied.set(r.partition, r.order);
          runtime.advanceTo(r.at);
          const space = r.event.space;
          for (const [from, copy] of r.states) {
            if (copy.state === null) continue;
            // the event's own profile: a user this worker starts shadowing; another: one its merges absorb
            if (from === r.profileId) runtime.shadow(space, profileFromPlain(copy.state), copy.pending);
            else runtime.receive(space, profileFromPlain(copy.state));
          }
          for (const m of r.merges) runtime.merge(space, m.from, m.into, r.event.messageId);
          runtime.apply(r.event, r.profileId);
          catchingUp = r.event.receivedAt < options.clock() - options.catchUpLagMs;
          if (owns !== undefined && !owns(r.profileId)) break;
          instants.push(runtime.watermark);
          merges.push(...r.merges);
          events.push(r.merges.length > 0 ? { event: r.event, profileId: r.profileId, merges: r.merges, seq: entry.seq } : { event: r.event, profileId: r.profileId, seq: entry.seq });
          break;
        }
      }
    }
    return { events, merges, lastSeq, skipped: 0, skips: [], mode: 'replay', catchingUp, instants };
  });
}
