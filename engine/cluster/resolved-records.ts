/**
 * The resolved log (`FLOCK_RESOLVED`, subjects `flock.resolved.<space>.<partition>`): what the
 * identity stage publishes for the partitioned workers, and the state transfers workers publish to
 * each other. One record kind per concept:
 *
 * - `event`: an event with its canonical profile, the merges its identifiers caused (applied right
 *   before it), and the instant it is applied at — the watermark the stage computed over the whole
 *   log, so a worker that sees one partition applies it at the instant one process would. A copy
 *   goes to each of its `targets`: the profile's partition, and those of the accounts it is linked
 *   to (a user linked to an account is shadowed where the account is: account-links.ts);
 * - `watermark`: time moved with no event for this partition (its timers fire, its instant closes);
 * - `handover`: to the partition of a profile a merge absorbed, when no target of the event is
 *   there: detach it at this instant and publish its state (`state`) to the targets that lack it;
 * - `state`: a profile's state for a target of an event that lacks it — an absorbed profile, or the
 *   event's own profile for a worker that starts shadowing it — published by the worker of the
 *   profile's partition when its input reaches the event (or the handover).
 *
 * A record's partition is the hash of its profile id (`resolvedPartition`), an account's that of
 * `group_id:<groupId>`; watermark records go to every partition under the space `_` (time is one
 * for all spaces).
 */
import { Packr } from 'msgpackr';
import type { FlockEvent } from '../event/model.ts';
import type { PendingEntry } from '../runtime/runtime.ts';
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
  /**
   * the partitions that apply the event — the profile's first, then those of the accounts it is
   * linked to after the event (its group call and merges included) — each with a copy of this
   * record; a worker that owns several applies the first.
   */
  readonly targets: readonly number[];
  /**
   * the profiles a target may lack — the event's own (unless the event created it) and those its
   * merges absorb — each with the partitions that held it before the event (its own, its accounts'):
   * a worker lacks one when it owns none of them, or, for the event's own worker and an absorbed
   * profile, when it does not own the profile's own partition (`lacks`). Only profiles some target lacks.
   */
  readonly holders: ReadonlyArray<readonly [profileId: string, partitions: readonly number[]]>;
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
  /** the event's targets (a worker that owns one merges the profile there itself), and the order of its record. */
  readonly targets: readonly number[];
  readonly eventOrder: number;
  /** the partitions that held the profile before the event. */
  readonly have: readonly number[];
}

export interface StateRecord {
  readonly kind: 'state';
  readonly space: string;
  readonly from: string;
  /** the event's profile (`from` itself for a user copied to its accounts' partitions). */
  readonly into: string;
  readonly messageId: string;
  /** the profile's state (`profileToPlain`); null: the profile did not exist there. */
  readonly state: unknown;
  /** its work pending at the open instant (for a shadow: `Runtime.shadow`); null: none. */
  readonly pending: PendingEntry | null;
  /**
   * the partitions that held the profile before the event (a worker owning one has it), and those
   * this state went to (a worker takes it from the first it owns); `order`: the event's record.
   */
  readonly have: readonly number[];
  readonly to: readonly number[];
  readonly order: number;
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

/**
 * Which targets of an event of profile `into` lack profile `from` (held before the event by the
 * partitions `have`): the event's own partition (`targets[0]`) lacks an absorbed profile unless it is
 * the profile's own — a shadow is not enough there: that worker keeps the whole survivor and
 * publishes the absorbed profile's exits —; any other target lacks it unless it holds it (shadows
 * keep what accounts read: `Runtime`'s `owns`).
 */
export function lackingTargets(targets: readonly number[], from: string, into: string, have: readonly number[], partitions: number): number[] {
  const whole = from !== into ? resolvedPartition(from, partitions) : -1;
  return targets.filter((p, i) => (i === 0 && whole >= 0 ? p !== whole : !have.includes(p)));
}

/** Whether a worker (owning the partitions `owns` accepts) lacks `from` for that event: what `lackingTargets` says of its partitions taken together. */
export function lacks(owns: (p: number) => boolean, targets: readonly number[], from: string, into: string, have: readonly number[], partitions: number): boolean {
  if (from !== into && owns(targets[0]!)) return !owns(resolvedPartition(from, partitions));
  return !have.some(owns);
}

/** The key a state transfer waits under: one per profile and event. */
export const transferKey = (space: string, from: string, messageId: string): string => `${space}\u0000${from}\u0000${messageId}`;

/** What a state transfer is for: profile `from`, for the event `messageId` (record `order`) of profile `into`, whose targets `to` lack it. */
export interface TransferTarget {
  readonly space: string;
  readonly from: string;
  readonly into: string;
  readonly messageId: string;
  readonly order: number;
  readonly have: readonly number[];
  readonly to: readonly number[];
}

/**
 * The state records of a transfer: one to each partition of `to`. Their ids name the profile, the
 * event and the partition, so the worker that publishes them again after a crash adds nothing.
 */
export function stateRecords(t: TransferTarget, state: unknown, pending: PendingEntry | null): LogRecord[] {
  const record: StateRecord = { kind: 'state', space: t.space, from: t.from, into: t.into, messageId: t.messageId, state, pending, have: t.have, to: t.to, order: t.order };
  const data = encodeResolved(record);
  return t.to.map((p) => ({ id: `s.${t.space}.${t.from}.${t.messageId}.${p}`, key: resolvedKey(t.space, p), data }));
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
