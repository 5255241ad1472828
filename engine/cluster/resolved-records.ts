/**
 * The resolved log (`FLOCK_RESOLVED`, subjects `flock.resolved.<space>.<partition>`): what the
 * identity stage publishes for the partitioned workers, and the state transfers workers publish to
 * each other. One record kind per concept:
 *
 * - `event`: an event with its canonical profile, the merges its identifiers caused (applied right
 *   before it), and the instant it is applied at — the watermark the stage computed over the whole
 *   log, so a worker that sees one partition applies it at the instant one process would;
 * - `watermark`: time moved with no event for this partition (its timers fire, its instant closes);
 * - `handover`: to the partition of a profile a merge absorbed into another partition's profile:
 *   detach it at this instant and publish its state (`state`) to the survivor's partition;
 * - `state`: the absorbed profile's state, for the merge waiting for it in the survivor's partition.
 *
 * A record's partition is the hash of its profile id (`resolvedPartition`); watermark records go to
 * every partition under the space `_` (time is one for all spaces).
 */
import { Packr } from 'msgpackr';
import type { FlockEvent } from '../event/model.ts';
import type { ProfileMerge } from '../identity/resolver.ts';
import type { LogRecord } from '../log/append-log.ts';
import type { LogLocation } from '../log/open-event-log.ts';
import { fnv1a32 } from '../log/partition.ts';

export const RESOLVED_LOG: LogLocation = { name: 'resolved', stream: 'FLOCK_RESOLVED', subjectPrefix: 'flock.resolved' };

/** The space name watermark records are filed under. */
export const TIME_SPACE = '_';

export interface ResolvedEventRecord {
  readonly kind: 'event';
  readonly event: FlockEvent;
  readonly profileId: string;
  readonly merges: readonly ProfileMerge[];
  /** the instant the event is applied at. */
  readonly at: number;
  /** the absorbed profiles (of `merges`) whose state comes from another partition by a `state` record. */
  readonly transfers: readonly string[];
  /** the record's place in the stage's output (raw position × 1024 + its index): a worker applies each order once. */
  readonly order: number;
}

export interface WatermarkRecord {
  readonly kind: 'watermark';
  readonly at: number;
}

export interface HandoverRecord {
  readonly kind: 'handover';
  readonly space: string;
  readonly from: string;
  readonly into: string;
  readonly at: number;
  /** the event whose identifiers caused the merge. */
  readonly messageId: string;
  readonly order: number;
}

export interface StateRecord {
  readonly kind: 'state';
  readonly space: string;
  readonly from: string;
  readonly messageId: string;
  /** the profile's state (`profileToPlain`); null: the profile did not exist there. */
  readonly state: unknown;
}

export type ResolvedRecord = ResolvedEventRecord | WatermarkRecord | HandoverRecord | StateRecord;

/** Which resolved partition a profile's records go to (16 by default, like the event log's). */
export function resolvedPartition(profileId: string, partitions: number): number {
  return fnv1a32(profileId) % partitions;
}

/** The log key (`<space>.<partition>`) and its partition back. */
export const resolvedKey = (space: string, partition: number): string => `${space}.${partition}`;
export function partitionOfKey(key: string): number {
  return Number(key.slice(key.lastIndexOf('.') + 1));
}

/** The key a state transfer waits under: one per absorbed profile and merge. */
export const transferKey = (space: string, from: string, messageId: string): string => `${space}\u0000${from}\u0000${messageId}`;

/**
 * The state record a handover becomes, to the survivor's partition. Its id names the profile and the
 * merge, so the worker that publishes it again after a crash adds nothing.
 */
export function stateRecord(h: HandoverRecord, state: unknown, partitions: number): LogRecord {
  const record: StateRecord = { kind: 'state', space: h.space, from: h.from, messageId: h.messageId, state };
  return { id: `s.${h.space}.${h.from}.${h.messageId}`, key: resolvedKey(h.space, resolvedPartition(h.into, partitions)), data: encodeResolved(record) };
}

const packr = new Packr({ useRecords: false, moreTypes: false });

export function encodeResolved(record: ResolvedRecord): Uint8Array {
  return packr.pack(record);
}

export class ResolvedRecordError extends Error {
  readonly code = 'resolved_record_invalid';
}

export function decodeResolved(data: Uint8Array): ResolvedRecord {
  const r = packr.unpack(data) as ResolvedRecord | null;
  if (r === null || typeof r !== 'object' || !['event', 'watermark', 'handover', 'state'].includes((r as { kind?: string }).kind ?? '')) {
    throw new ResolvedRecordError('not a resolved-log record');
  }
  return r;
}
