/** RxJS stage: attaches the canonical profile id to each event of a batch (identity resolution). */
import { map, type OperatorFunction } from 'rxjs';
import type { FlockEvent } from '../event/model.ts';
import type { Rejection } from '../event/rejection.ts';
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
  /** each skipped event and why (the engine logs them); empty when none. */
  readonly skips: readonly SkippedEvent[];
}

/** An event identity resolution could not apply, and why (a rejection code the tracking API would have answered). */
export interface SkippedEvent {
  readonly seq: number;
  readonly space: string;
  readonly messageId: string;
  readonly reason: Rejection;
}

const NO_SKIPS: readonly SkippedEvent[] = Object.freeze([]);
const UNKNOWN: Rejection = { code: 'no_user_anon_id', message: 'the event identifies nobody' };

export function resolveProfiles(resolver: IdentityResolver): OperatorFunction<readonly LoggedEvent[], ResolvedBatch> {
  return map((batch) => {
    const events: ResolvedEvent[] = [];
    const merges: ProfileMerge[] = [];
    let skips: SkippedEvent[] | undefined;
    for (const { event, seq } of batch) {
      const r = resolver.resolve(event);
      if (r.merges.length > 0) merges.push(...r.merges);
      if (r.profileId === null) (skips ??= []).push({ seq, space: event.space, messageId: event.messageId, reason: r.skip ?? UNKNOWN });
      else events.push(r.merges.length > 0 ? { event, profileId: r.profileId, merges: r.merges, seq } : { event, profileId: r.profileId, seq });
    }
    return { events, merges, lastSeq: batch.length === 0 ? 0 : batch[batch.length - 1]!.seq, skipped: skips?.length ?? 0, skips: skips ?? NO_SKIPS };
  });
}
