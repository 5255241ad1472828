/**
 * The read queries of the distributed mode: what the API role (`--role api`) asks the processes that
 * own the state, on which NATS subject, in which bytes — and the one error it turns a missing owner
 * into.
 *
 * - `flock.query.identity`: the identity stage's owner (the holder of the `identity` lease) answers
 *   who is who — an identifier to its canonical profile, a profile's external ids and account links,
 *   of a user or an account (`collection`, users when absent) — from the graph it checkpoints.
 * - `flock.query.partition.<p>`: the worker holding the set with resolved partition p answers what
 *   its store keeps of a profile of p — its view as the Profile API serves it, its events — and how
 *   many outputs of a definition its set's store holds (a size's share).
 *
 * A subject is subscribed only while its process holds the lease and computes (worker-node.ts,
 * identity-node.ts), in a queue group, so a request reaches one owner or none: no owner (a standby
 * not yet taken over, a worker replaying) answers NATS "no responders" at once, a stalled one times
 * out; both are `ClusterReadError` `partition_unavailable` / `identity_unavailable` (HTTP 503).
 * The space is in the request, not the subject: an owner serves every space, and a space id need not
 * be a subject token.
 */
import { Packr } from 'msgpackr';
import type { Collection } from '../profiles/profile-locator.ts';
import type { ProfileEvent, ProfileEventQuery } from '../profiles/profile-sources.ts';

export const IDENTITY_QUERY_SUBJECT = 'flock.query.identity';
export const partitionQuerySubject = (partition: number): string => `flock.query.partition.${partition}`;
/** the queue group every owner subscribes in (one answer per request, even while two overlap in a takeover). */
export const QUERY_QUEUE = 'flock-query';

/** What the identity owner is asked. */
export type IdentityQuery =
  | { readonly op: 'locate'; readonly space: string; readonly collection?: Collection; readonly identifier: string }
  | { readonly op: 'external_ids'; readonly space: string; readonly collection?: Collection; readonly profileId: string; readonly firstSeen: number }
  | { readonly op: 'links'; readonly space: string; readonly collection?: Collection; readonly profileId: string; readonly limit: number };

/** What a partition's worker is asked. */
export type PartitionQuery =
  | { readonly op: 'view'; readonly space: string; readonly profileId: string }
  /** each profile and the profiles merged into it, as far as this partition's store recorded the merges. */
  | { readonly op: 'members'; readonly space: string; readonly profileIds: readonly string[] }
  /** one page of the events this partition's store indexed under these profiles (all of this partition). */
  | { readonly op: 'events'; readonly space: string; readonly profileIds: readonly string[]; readonly query: ProfileEventQuery }
  /** the outputs the worker's store holds of each definition (its whole partition set's: `OutputCounts`). */
  | { readonly op: 'sizes'; readonly space: string; readonly definitionIds: readonly string[] };

/**
 * A worker's outputs per definition, for its whole partition set (one store): the API role asks
 * every partition and counts each set once, by name.
 */
export interface OutputCounts {
  readonly set: string;
  /** in the order of the query's `definitionIds`. */
  readonly counts: readonly number[];
}

/** One indexed event of a page, with the event (null: the log no longer holds it). */
export interface EventPageEntry {
  readonly timestamp: number;
  readonly messageId: string;
  readonly event: ProfileEvent | null;
}

export interface EventPage {
  readonly entries: readonly EventPageEntry[];
  readonly hasMore: boolean;
}

/** An answer: the value, or why the owner could not give one. */
export type QueryReply = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly code: string; readonly message: string };

export type ClusterReadErrorCode =
  /** no worker holds the profile's partition now (or it did not answer in time). */
  | 'partition_unavailable'
  /** no identity owner now (or it did not answer in time). */
  | 'identity_unavailable'
  /** the API role cannot serve this read: it needs state no single owner has (none at present: account profiles are served since the identity owner locates them). */
  | 'not_in_api_role';

/** A read the API role could not get an answer for; `code` says why (api/app.ts: 503, or 501 for `not_in_api_role`). */
export class ClusterReadError extends Error {
  constructor(
    readonly code: ClusterReadErrorCode,
    message: string,
    options?: { readonly cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ClusterReadError';
  }
}

/** An owner's answer that is an error of its own (its store failed): the API answers 500. */
export class QueryAnswerError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'QueryAnswerError';
  }
}

// (msgpack, not JSON: a trait may hold any value an event carried, and `undefined` fields must stay absent)
const packr = new Packr({ useRecords: false, moreTypes: false });

export const encodeQuery = (query: IdentityQuery | PartitionQuery | QueryReply): Uint8Array => packr.pack(query);
export const decodeQuery = <T extends IdentityQuery | PartitionQuery | QueryReply>(data: Uint8Array): T => packr.unpack(data) as T;
