/** Identity resolution: which profile an event belongs to. */
import type { FlockEvent } from '../event/model.ts';
import type { Rejection } from '../event/rejection.ts';
import type { IdentityWrites } from './records.ts';

/** A merge the resolver performed: `from` is absorbed into `into` (both canonical profile ids). */
export interface ProfileMerge {
  readonly space: string;
  readonly from: string;
  readonly into: string;
}

export interface Resolution {
  /** the canonical profile id, or null when the event identifies nobody (it is skipped). */
  readonly profileId: string | null;
  readonly merges: readonly ProfileMerge[];
  /** why a skipped event identifies nobody (`unidentified`; the tracking API refuses such calls). */
  readonly skip?: Rejection;
}

export interface IdentityResolver {
  resolve(event: FlockEvent): Resolution;
  /** a resolver with state: its changes since the last call, written in the engine's checkpoint transaction. */
  checkpointWrites?(): IdentityWrites;
}

/**
 * One profile per user id, else per anonymous id — no linking between them. Not the engine's
 * resolver (that is `IdentityGraph`); kept for benchmarks that measure the runtime without identity.
 */
export class DirectResolver implements IdentityResolver {
  resolve(event: FlockEvent): Resolution {
    if (event.userId !== null && event.userId !== '') return { profileId: `user_id:${event.userId}`, merges: [] };
    if (event.anonymousId !== null && event.anonymousId !== '') return { profileId: `anonymous_id:${event.anonymousId}`, merges: [] };
    return { profileId: null, merges: [], skip: { code: 'no_user_anon_id', message: 'the event has no userId or anonymousId' } };
  }
}
