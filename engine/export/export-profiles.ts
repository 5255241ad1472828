/**
 * The profiles an export writes, read from one store snapshot: a definition's members (current: its
 * published outputs; as of an instant: its membership history), each with its identifiers, custom
 * traits and the chosen computed traits. An account-level definition's rows are its accounts' users
 * (Segment's rule), each user once, optionally after a row for the account itself.
 */
import { identityProfileFromPlain, type IdentifierTuple } from '../identity/records.ts';
import { forwardLookup } from '../store/keys.ts';
import { viewFromPlain, viewOutput, type ProfileViewRecord } from '../store/profile-views.ts';
import type { StoreSnapshot } from '../store/store-snapshot.ts';
import type { ExportProfile, IdentifierCounts } from './csv-layout.ts';

export interface ExportSource {
  readonly space: string;
  readonly definitionId: string;
  readonly target: 'USERS' | 'ACCOUNTS';
  /** as of an instant: the version whose history answers; undefined: the current (published) outputs. */
  readonly at?: { readonly t: number; readonly version: number } | undefined;
  /** computed-trait columns: definition and the version whose history answers as of `at`. */
  readonly computed: ReadonlyArray<{ readonly id: string; readonly version: number }>;
  /** read custom traits (only the `columns` format shows them). */
  readonly customTraits: boolean;
  readonly accountRows: boolean;
}

/** Members read so far (progress). */
export interface ExportProgress {
  members: number;
}

/** Profiles keyed by their identifier (no identity graph: `user_id:u1`) export that identifier. */
const DIRECT_ID = /^(user_id|anonymous_id):(.+)$/;

function identifiersOf(snap: StoreSnapshot, space: string, profileId: string): readonly IdentifierTuple[] {
  return snap.identityProfile(space, profileId)?.ids ?? directIdentifiers(profileId);
}

function directIdentifiers(profileId: string): readonly IdentifierTuple[] {
  const direct = DIRECT_ID.exec(profileId);
  return direct === null ? [] : [[direct[1]!, direct[2]!, 0, '', null, null]];
}

/** The members of the source's definition, in profile id order. */
function members(snap: StoreSnapshot, s: ExportSource): Iterable<{ profileId: string; value: unknown }> {
  return s.at === undefined ? snap.outputs(s.space, s.definitionId) : snap.membersAt(s.space, s.definitionId, s.at.version, s.at.t);
}

export { compareKeyStrings, forwardLookup } from '../store/keys.ts';

/** A range is read with a cursor when the keys asked for are at least this share of it. */
const DENSE = 0.25;

/** Every exported profile, in order; `progress.members` counts the definition's members read. */
export function* exportProfiles(snap: StoreSnapshot, s: ExportSource, progress: ExportProgress = { members: 0 }): Generator<ExportProfile> {
  const profile = (profileId: string, value: unknown): ExportProfile => {
    // one record per profile: its view (a member without state has none: its identity record alone)
    const view = snap.hasViews ? snap.profileView(s.space, profileId) : undefined;
    if (view !== undefined) return fromView(s, profileId, value, view, (c) => snap.valueAt(s.space, c.id, c.version, profileId, s.at!.t));
    return {
      key: profileId,
      value,
      ids: identifiersOf(snap, s.space, profileId),
      custom: s.customTraits ? (snap.profileCore(s.space, profileId)?.traits ?? {}) : {},
      computed: s.computed.map((c) => (s.at === undefined ? snap.output(s.space, c.id, profileId) : snap.valueAt(s.space, c.id, c.version, profileId, s.at.t))),
    };
  };
  if (s.target === 'USERS' && s.at === undefined) {
    yield* snap.hasViews ? denseViews(snap, s, progress, profile) : denseOrPointReads(snap, s, progress, profile);
    return;
  }
  if (s.target === 'USERS') {
    for (const m of members(snap, s)) {
      progress.members++;
      yield profile(m.profileId, m.value);
    }
    return;
  }
  // account-level: a user of several member accounts is written once (the set grows with the users written)
  const written = new Set<string>();
  for (const m of members(snap, s)) {
    progress.members++;
    const account = snap.profileCore(s.space, m.profileId);
    if (s.accountRows) {
      const groupId = m.profileId.startsWith('group_id:') ? m.profileId.slice('group_id:'.length) : m.profileId;
      yield { key: m.profileId, value: m.value, ids: [['group_id', groupId, 0, '', null, null]], custom: account?.traits ?? {}, computed: s.computed.map(() => undefined) };
    }
    for (const user of [...(account?.links ?? [])].sort()) {
      if (written.has(user)) continue;
      written.add(user);
      yield profile(user, m.value);
    }
  }
}

/** Identifier types of the exported profiles and the most values of each one profile has (the counting pass of the indexed formats). */
export function identifierCounts(snap: StoreSnapshot, s: ExportSource): IdentifierCounts {
  const counts = new Map<string, number>();
  const lean: ExportSource = { ...s, computed: [], customTraits: false };
  for (const p of exportProfiles(snap, lean)) {
    const mine = new Map<string, number>();
    for (const t of p.ids) mine.set(t[0], (mine.get(t[0]) ?? 0) + 1);
    for (const [type, n] of mine) if (n > (counts.get(type) ?? 0)) counts.set(type, n);
  }
  return counts;
}

/** An exported profile from its view; computed traits from the view (current) or `valueAt` (as of an instant). */
function fromView(s: ExportSource, profileId: string, value: unknown, view: ProfileViewRecord, valueAt: (c: { readonly id: string; readonly version: number }) => unknown): ExportProfile {
  return {
    key: profileId,
    value,
    ids: view.ids ?? directIdentifiers(profileId),
    custom: s.customTraits ? view.traits : {},
    computed: s.computed.map((c) => (s.at === undefined ? viewOutput(view, c.id)?.v : valueAt(c))),
  };
}

/**
 * The current members of a user-level definition (ascending profile ids), each from its view: merge-
 * joined with a cursor over the views when the members are a large share of the profiles, else one
 * point read per member.
 */
function* denseViews(snap: StoreSnapshot, s: ExportSource, progress: ExportProgress, point: (profileId: string, value: unknown) => ExportProfile): Generator<ExportProfile> {
  const size = snap.outputCount(s.space, s.definitionId);
  if (size === 0) return;
  const first = snap.outputs(s.space, s.definitionId)[Symbol.iterator]().next();
  if (first.done === true) return;
  const views = size >= DENSE * snap.profileCount(s.space) ? forwardLookup(snap.viewRange(s.space, first.value.profileId), (e) => e.key[1], (e) => e.value) : undefined;
  for (const { key, value } of snap.outputRange(s.space, s.definitionId, '')) {
    const profileId = key[2];
    progress.members++;
    const plain = views?.(profileId);
    yield plain === undefined ? point(profileId, value.v) : fromView(s, profileId, value.v, viewFromPlain(plain), () => undefined);
  }
}

/**
 * Without views (a read-only handle on a store this build's engine has not opened yet): the current
 * members of a user-level definition (ascending profile ids): identity records, cores and
 * computed-trait values are merge-joined with cursors over their ranges when the members are a large
 * share of them, else read with point reads.
 */
function* denseOrPointReads(snap: StoreSnapshot, s: ExportSource, progress: ExportProgress, point: (profileId: string, value: unknown) => ExportProfile): Generator<ExportProfile> {
  const size = snap.outputCount(s.space, s.definitionId);
  const first = snap.outputs(s.space, s.definitionId)[Symbol.iterator]().next();
  if (first.done === true) return;
  const from = first.value.profileId;
  const profiles = size > 0 && size >= DENSE * snap.profileCount(s.space);
  const profileKey = (e: { key: [string, string] }) => e.key[1];
  const ids = profiles ? forwardLookup(snap.identityRange(s.space, from), profileKey, (e) => identityProfileFromPlain(e.value)) : undefined;
  const cores = profiles && s.customTraits ? forwardLookup(snap.coreRange(s.space, from), profileKey, (e) => (e.value as { traits?: Record<string, unknown> }).traits) : undefined;
  const computed = s.computed.map((c) =>
    size >= DENSE * snap.outputCount(s.space, c.id)
      ? forwardLookup(
          snap.outputRange(s.space, c.id, from),
          (e) => e.key[2],
          (e) => e.value.v,
        )
      : undefined,
  );
  const allPoint = ids === undefined && computed.every((x) => x === undefined);
  for (const { key, value } of snap.outputRange(s.space, s.definitionId, '')) {
    const profileId = key[2];
    progress.members++;
    if (allPoint) {
      yield point(profileId, value.v);
      continue;
    }
    const record = ids?.(profileId);
    const values: unknown[] = [];
    for (let i = 0; i < s.computed.length; i++) {
      const lookup = computed[i];
      values.push(lookup === undefined ? snap.output(s.space, s.computed[i]!.id, profileId) : lookup(profileId));
    }
    yield {
      key: profileId,
      value: value.v,
      ids: ids === undefined ? identifiersOf(snap, s.space, profileId) : (record?.ids ?? directIdentifiers(profileId)),
      custom: !s.customTraits ? {} : cores === undefined ? (snap.profileCore(s.space, profileId)?.traits ?? {}) : (cores(profileId) ?? {}),
      computed: values,
    };
  }
}
