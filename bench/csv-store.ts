/**
 * Writes synthetic profiles straight into a CheckpointStore (no engine): cores with custom traits and
 * account links, identity records, and definition outputs as enter / trait changes (optionally into
 * the membership history) — what `npm run bench:csv` and the export tests export.
 */
import type { IdentifierTuple, IdentityProfileRecord } from '../engine/identity/records.ts';
import { IDENTITY_RECORD_VERSION } from '../engine/identity/records.ts';
import type { Change } from '../engine/runtime/change.ts';
import { collectionOf, createProfileState } from '../engine/runtime/profile-state.ts';
import type { CheckpointStore, ProfileWrite } from '../engine/store/checkpoint-store.ts';

export interface SyntheticProfile {
  readonly id: string;
  readonly traits?: Record<string, unknown>;
  /** [type, value as stored (lower-case), spelling sent when it differs]. */
  readonly ids?: ReadonlyArray<readonly [string, string, string?]>;
  /** an account's users / a user's accounts. */
  readonly links?: readonly string[];
}

/** A definition output: `value` true enters an audience, undefined leaves it (or clears a trait), anything else is a trait value. */
export interface SyntheticOutput {
  readonly definitionId: string;
  readonly kind: 'audience' | 'trait';
  readonly profileId: string;
  readonly value: unknown;
  readonly version?: number;
}

export interface WriteOptions {
  readonly space: string;
  /** the checkpoint's position and watermark (= the changes' instant). */
  readonly position: number;
  readonly at: number;
  /** also record the changes in the membership history. */
  readonly history?: boolean;
  /** definition cells per profile core (a real core has one per definition of the space: its size is read with the custom traits). */
  readonly cells?: number;
}

function change(space: string, o: SyntheticOutput, at: number, n: number): Change {
  const base = { id: `c${at}.${n}`, space, collection: collectionOf(o.profileId), definitionId: o.definitionId, version: o.version ?? 1, profileId: o.profileId, at, cause: { type: 'time' } as const };
  if (o.kind === 'trait') return { ...base, kind: 'trait', traitKey: o.definitionId, value: o.value, previous: undefined };
  return { ...base, kind: o.value === true ? 'enter' : 'exit', audienceKey: o.definitionId };
}

/** One checkpoint with these profiles (cores + identity records) and outputs. */
export async function writeSynthetic(store: CheckpointStore, o: WriteOptions, profiles: readonly SyntheticProfile[], outputs: readonly SyntheticOutput[]): Promise<void> {
  const writes: ProfileWrite[] = profiles.map((p) => {
    const state = createProfileState(o.space, p.id, o.at);
    state.traits = { ...(p.traits ?? {}) };
    state.links = [...(p.links ?? [])];
    if ((o.cells ?? 0) > 0) state.unbound = { aggs: [], cells: Array.from({ length: o.cells! }, (_, i) => [`fp${i}`, { v: i % 2 === 0 ? true : undefined, at: o.at, flip: Number.POSITIVE_INFINITY }] as [string, { v: unknown; at: number; flip: number }]) };
    return { state, savedWake: Number.POSITIVE_INFINITY, nodes: [] };
  });
  const identity = profiles
    .filter((p) => p.ids !== undefined)
    .map((p, i) => {
      const ids = p.ids!.map(([type, value, raw]): IdentifierTuple => [type, value, o.at, `m-${p.id}`, null, raw ?? null]);
      const record: IdentityProfileRecord = { v: IDENTITY_RECORD_VERSION, c: i, t: o.at, m: `m-${p.id}`, n: 0, ids, groups: [] };
      return { space: o.space, id: p.id, record };
    });
  const changes = outputs.map((x, n) => change(o.space, x, o.at, n));
  await store.commit({
    position: o.position,
    watermark: o.at,
    profiles: writes,
    pending: [],
    changes,
    records: [],
    publishedThrough: 0,
    identity: { profiles: identity, identifiers: [], merges: [], accounts: [], accountUsers: [], counters: [] },
    ...(o.history === true ? { history: { changes, events: [], merges: [], compact: [], horizon: Number.NEGATIVE_INFINITY, eventHorizon: Number.NEGATIVE_INFINITY } } : {}),
  });
}
