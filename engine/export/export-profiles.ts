/**
 * The profiles an export writes, read from one store snapshot: a definition's members (current: its
 * published outputs; as of an instant: its membership history), each with its identifiers, custom
 * traits and the chosen computed traits. An account-level definition's rows are its accounts' users
 * (Segment's rule), each user once, optionally after a row for the account itself.
 */
import type { IdentifierTuple } from '../identity/records.ts';
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
  const record = snap.identityProfile(space, profileId);
  if (record !== undefined) return record.ids;
  const direct = DIRECT_ID.exec(profileId);
  return direct === null ? [] : [[direct[1]!, direct[2]!, 0, '', null, null]];
}

/** The members of the source's definition, in profile id order. */
function members(snap: StoreSnapshot, s: ExportSource): Iterable<{ profileId: string; value: unknown }> {
  return s.at === undefined ? snap.outputs(s.space, s.definitionId) : snap.membersAt(s.space, s.definitionId, s.at.version, s.at.t);
}

/** Every exported profile, in order; `progress.members` counts the definition's members read. */
export function* exportProfiles(snap: StoreSnapshot, s: ExportSource, progress: ExportProgress = { members: 0 }): Generator<ExportProfile> {
  const profile = (profileId: string, value: unknown): ExportProfile => ({
    key: profileId,
    value,
    ids: identifiersOf(snap, s.space, profileId),
    custom: s.customTraits ? (snap.profileCore(s.space, profileId)?.traits ?? {}) : {},
    computed: s.computed.map((c) => (s.at === undefined ? snap.output(s.space, c.id, profileId) : snap.valueAt(s.space, c.id, c.version, profileId, s.at.t))),
  });
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
