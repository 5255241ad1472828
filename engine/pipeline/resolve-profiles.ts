/** RxJS stage: attaches the canonical profile id to each event of a batch (identity resolution). */
import { map, type OperatorFunction } from 'rxjs';
import type { FlockEvent } from '../event/model.ts';
import type { IdentityResolver, ProfileMerge } from '../identity/resolver.ts';
import type { LoggedEvent } from '../log/event-log.ts';

export interface ResolvedEvent {
  readonly event: FlockEvent;
  readonly profileId: string;
  /** merges this event's identifiers caused, applied right before the event. */
  readonly merges?: readonly ProfileMerge[];
  /** its position in the event log. */
  readonly seq: number;
}

/** A batch after identity resolution: events with their profile, merges in order, the last log position. */
export interface ResolvedBatch {
  readonly events: readonly ResolvedEvent[];
  readonly merges: readonly ProfileMerge[];
  readonly lastSeq: number;
  /** events that identified nobody (no user id, no anonymous id). */
  readonly skipped: number;
}

export function resolveProfiles(resolver: IdentityResolver): OperatorFunction<readonly LoggedEvent[], ResolvedBatch> {
  return map((batch) => {
    const events: ResolvedEvent[] = [];
    const merges: ProfileMerge[] = [];
    let skipped = 0;
    for (const { event, seq } of batch) {
      const r = resolver.resolve(event);
      if (r.merges.length > 0) merges.push(...r.merges);
      if (r.profileId === null) skipped++;
      else events.push(r.merges.length > 0 ? { event, profileId: r.profileId, merges: r.merges, seq } : { event, profileId: r.profileId, seq });
    }
    return { events, merges, lastSeq: batch.length === 0 ? 0 : batch[batch.length - 1]!.seq, skipped };
  });
}
