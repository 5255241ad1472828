/**
 * RxJS stage of a partitioned worker: applies resolved records at the instants the identity stage
 * decided (instead of resolving and timing events itself). An event: time moves to its instant,
 * the states its cross-partition merges need are taken in, the merges and the event are applied —
 * what `Runtime.replay` does in one process. A watermark moves time. A handover detaches the
 * absorbed profile at its instant and hands its state to `onHandover` (the engine publishes it to
 * the survivor's partition).
 */
import { map, type OperatorFunction } from 'rxjs';
import type { LoggedEvent } from '../log/event-log.ts';
import type { ProfileMerge } from '../identity/resolver.ts';
import { profileFromPlain, profileToPlain } from '../runtime/profile-state.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { HandoverRecord } from '../cluster/resolved-records.ts';
import type { EvaluatedBatch } from './evaluate-batch.ts';
import type { ResolvedEvent } from './resolve-profiles.ts';

export function applyResolved(
  runtime: Runtime,
  onHandover: (handover: HandoverRecord, state: unknown) => void,
  /** as `evaluateBatch`'s: a batch whose newest event was received longer ago than `catchUpLagMs` is catching up (larger checkpoints). */
  options: { readonly clock: () => number; readonly catchUpLagMs: number },
  /**
   * per resolved partition, the order of the last record applied (the engine checkpoints it): a
   * record at or before it is a copy the identity stage published again (after its duplicate
   * window, so the log kept it) and is skipped.
   */
  applied: Map<number, number>,
): OperatorFunction<readonly LoggedEvent[], EvaluatedBatch> {
  let catchingUp = true;
  return map((batch) => {
    const events: ResolvedEvent[] = [];
    const merges: ProfileMerge[] = [];
    const instants: number[] = [];
    for (const entry of batch) {
      const r = entry.resolved;
      if (r === undefined) throw new Error(`worker: log position ${entry.seq} is not a resolved record`);
      switch (r.kind) {
        case 'skip':
          break;
        case 'watermark':
          runtime.advanceTo(r.at);
          break;
        case 'handover': {
          if (r.order <= (applied.get(r.partition) ?? -1)) break;
          applied.set(r.partition, r.order);
          runtime.advanceTo(r.at);
          const state = runtime.detach(r.space, r.from);
          onHandover(r, state === undefined ? null : profileToPlain(state));
          break;
        }
        case 'event': {
          if (r.order <= (applied.get(r.partition) ?? -1)) break;
          applied.set(r.partition, r.order);
          runtime.advanceTo(r.at);
          const space = r.event.space;
          for (const [from, plain] of r.states) if (plain !== null) runtime.receive(space, profileFromPlain(plain));
          if (r.merges.length > 0) {
            for (const m of r.merges) runtime.merge(space, m.from, m.into, r.event.messageId);
            merges.push(...r.merges);
          }
          runtime.apply(r.event, r.profileId);
          instants.push(runtime.watermark);
          catchingUp = r.event.receivedAt < options.clock() - options.catchUpLagMs;
          events.push(r.merges.length > 0 ? { event: r.event, profileId: r.profileId, merges: r.merges, seq: entry.seq } : { event: r.event, profileId: r.profileId, seq: entry.seq });
          break;
        }
      }
    }
    return { events, merges, lastSeq: batch.length === 0 ? 0 : batch[batch.length - 1]!.seq, skipped: 0, skips: [], mode: 'replay', catchingUp, instants };
  });
}
