/**
 * The compact published record per profile (`profile_views` [space, profileId]): what the Profile
 * API and the CSV export serve of a profile, kept in step with `profiles`, `published` and the
 * identity graph in the checkpoint's own transaction, so a read is one point read and never decodes
 * engine state.
 */
import type { Database } from 'lmdb';
import { identityProfileFromPlain, type IdentifierTuple, type IdentityProfileRecord } from '../identity/records.ts';
import { compareKeys, forwardLookup } from './keys.ts';

export const PROFILE_VIEW_VERSION = 1;

/** The `meta` key recording that every profile has its view (written by the backfill at open). */
export const VIEWS_META_KEY = 'profile_views';

/**
 * One profile as served. Stored as one msgpack array
 * `[version, traits, traitAt, firstSeen, lastSeen, links, outputs, ids]`; `outputs` is flat —
 * `definitionId, value, at, version, …` by definition id — the published row of every definition for
 * the profile (membership `true` or a trait value, the instant of the change that set it, the version
 * that published it); `ids` the identity record's identifiers (null: the profile has none, e.g. with
 * the direct resolver).
 */
export interface ProfileViewRecord {
  readonly traits: Readonly<Record<string, unknown>>;
  readonly traitAt: Readonly<Record<string, number>>;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly links: readonly string[];
  readonly outputs: readonly unknown[];
  readonly ids: readonly IdentifierTuple[] | null;
}

/** A published value: membership `true` or a trait value, its instant and version (the `published` row). */
export interface PublishedCell {
  readonly v: unknown;
  readonly at: number;
  readonly version: number;
}

export class ProfileViewVersionError extends Error {
  constructor(readonly found: unknown) {
    super(`profile view version ${String(found)} is not readable by this build (expects ${PROFILE_VIEW_VERSION})`);
    this.name = 'ProfileViewVersionError';
  }
}

export function viewToPlain(v: ProfileViewRecord): unknown[] {
  return [PROFILE_VIEW_VERSION, v.traits, v.traitAt, v.firstSeen, v.lastSeen, v.links, v.outputs, v.ids];
}

export function viewFromPlain(plain: unknown): ProfileViewRecord {
  const a = plain as [number, Record<string, unknown>, Record<string, number>, number, number, string[], unknown[], IdentifierTuple[] | null];
  if (!Array.isArray(a) || a[0] !== PROFILE_VIEW_VERSION) throw new ProfileViewVersionError(Array.isArray(a) ? a[0] : a);
  return { traits: a[1], traitAt: a[2], firstSeen: a[3], lastSeen: a[4], links: a[5], outputs: a[6], ids: a[7] };
}

/** The published cell of one definition in a view, or undefined. */
export function viewOutput(view: ProfileViewRecord, definitionId: string): PublishedCell | undefined {
  const o = view.outputs;
  for (let i = 0; i < o.length; i += 4) if (o[i] === definitionId) return { v: o[i + 1], at: o[i + 2] as number, version: o[i + 3] as number };
  return undefined;
}

/** The view's outputs by definition id. */
export function viewOutputs(view: ProfileViewRecord): Map<string, PublishedCell> {
  const out = new Map<string, PublishedCell>();
  const o = view.outputs;
  for (let i = 0; i < o.length; i += 4) out.set(o[i] as string, { v: o[i + 1], at: o[i + 2] as number, version: o[i + 3] as number });
  return out;
}

function flatOutputs(cells: ReadonlyMap<string, PublishedCell>): unknown[] {
  const out: unknown[] = [];
  for (const id of [...cells.keys()].sort()) {
    const c = cells.get(id)!;
    out.push(id, c.v, c.at, c.version);
  }
  return out;
}

/** The databases the views are kept from and written to. */
export interface ViewSources {
  readonly views: Database<unknown, [string, string]>;
  readonly idProfiles: Database<unknown, [string, string]>;
}

/** What one checkpoint changed that a view shows: profile cores, published rows, identity records. */
export interface ViewWrites {
  /** in key order (space, then id). */
  readonly profiles: ReadonlyArray<{ readonly space: string; readonly id: string; readonly core: unknown; readonly removed?: boolean | undefined }>;
  /** the `published` writes of the checkpoint (last per key; null: the row is removed). */
  readonly outputs: ReadonlyArray<{ readonly key: readonly [string, string, string]; readonly value: PublishedCell | null }>;
  readonly identity?: ReadonlyArray<{ readonly space: string; readonly id: string; readonly record: IdentityProfileRecord | null }> | undefined;
}

/** The part of a profile's stored core (`profileCoreToPlain`) a view shows. */
interface ViewCore {
  readonly traits: Record<string, unknown>;
  readonly traitAt: Record<string, number>;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly links: string[];
}

interface Touched {
  readonly key: [string, string];
  state?: ViewCore;
  removed?: boolean;
  outputs?: Array<readonly [string, PublishedCell | null]>;
  identity?: IdentityProfileRecord | null;
}

/**
 * Rewrites the view of every profile this checkpoint touched, inside the checkpoint's write
 * transaction (after `published` and the identity graph are written): the profile's core from its
 * state, its outputs from its previous view with this checkpoint's `published` writes applied, its
 * identifiers from the identity record written now (else the previous view's; a new view reads the
 * record). A removed profile (merged away) loses its view. A view exists exactly when the profile's
 * core does: writes for a profile without a core and without a view (a merged-away profile's outputs
 * released later) write none.
 */
export function writeProfileViews(db: ViewSources, w: ViewWrites): void {
  // by space, then id (the ids' own strings: their hashes are cached, a joined key would be hashed anew)
  const touched: Touched[] = [];
  const bySpace = new Map<string, Map<string, Touched>>();
  const entry = (space: string, id: string): Touched => {
    let ids = bySpace.get(space);
    if (ids === undefined) bySpace.set(space, (ids = new Map()));
    let t = ids.get(id);
    if (t === undefined) {
      ids.set(id, (t = { key: [space, id] }));
      touched.push(t);
    }
    return t;
  };
  for (const { space, id, core, removed } of w.profiles) {
    const t = entry(space, id);
    if (removed === true) t.removed = true;
    else t.state = core as ViewCore;
  }
  for (const { key, value } of w.outputs) (entry(key[0], key[2]).outputs ??= []).push([key[1], value]);
  for (const { space, id, record } of w.identity ?? []) entry(space, id).identity = record;
  // in key order for LMDB: the profile writes come sorted (commit sorts them); only the profiles touched
  // by outputs or identity alone (version switches, BATCH runs) are sorted here
  const rest = touched.filter((t) => t.state === undefined).sort((a, b) => compareKeys(a.key, b.key));
  const ordered = rest.length === 0 ? touched : touched.filter((t) => t.state !== undefined).concat(rest);
  for (const t of ordered) {
    if (t.removed === true) {
      db.views.remove(t.key);
      continue;
    }
    const stored = db.views.get(t.key);
    const before = stored === undefined ? undefined : viewFromPlain(stored);
    if (before === undefined && t.state === undefined) continue;
    const s = t.state;
    let outputs = before?.outputs ?? [];
    if (t.outputs !== undefined) {
      const cells = before === undefined ? new Map<string, PublishedCell>() : viewOutputs(before);
      for (const [definitionId, value] of t.outputs) {
        if (value === null) cells.delete(definitionId);
        else cells.set(definitionId, value);
      }
      outputs = flatOutputs(cells);
    }
    let ids: readonly IdentifierTuple[] | null;
    if (t.identity !== undefined) ids = t.identity?.ids ?? null;
    else if (before !== undefined) ids = before.ids;
    else {
      const plain = db.idProfiles.get(t.key);
      ids = plain === undefined ? null : identityProfileFromPlain(plain).ids;
    }
    const view: ProfileViewRecord =
      s === undefined
        ? { ...before!, outputs, ids }
        : { traits: s.traits, traitAt: s.traitAt, firstSeen: s.firstSeen, lastSeen: s.lastSeen, links: s.links, outputs, ids };
    db.views.put(t.key, viewToPlain(view));
  }
}

/** The databases a backfill of the views reads. */
export interface BackfillSources extends ViewSources {
  readonly profiles: Database<unknown, [string, string]>;
  readonly published: Database<PublishedCell, [string, string, string]>;
}

/** The definition ids with a `published` row in `space` (one key read per definition: each read skips past the previous one's rows). */
function publishedDefinitions(db: BackfillSources, space: string): string[] {
  const ids: string[] = [];
  let start: [string, string, string] = [space, '', ''];
  for (;;) {
    const next = db.published.getKeys({ start, end: [`${space}\u0000`, '', ''], limit: 1 })[Symbol.iterator]().next();
    if (next.done === true) return ids;
    ids.push(next.value[1]);
    start = [space, `${next.value[1]}\u0000`, ''];
  }
}

/**
 * Builds the view of every stored profile from `profiles`, `published` and the identity records —
 * for a store written before views existed. Call inside one write transaction (all or nothing); each
 * space is one merge join of its profiles with its identity records and each definition's rows.
 * Returns the views written.
 */
export function backfillProfileViews(db: BackfillSources): number {
  const spaces: string[] = [];
  let start: [string, string] = ['', ''];
  for (;;) {
    const next = db.profiles.getKeys({ start, limit: 1 })[Symbol.iterator]().next();
    if (next.done === true) break;
    spaces.push(next.value[0]);
    start = [`${next.value[0]}\u0000`, ''];
  }
  let written = 0;
  for (const space of spaces) {
    const identity = forwardLookup(db.idProfiles.getRange({ start: [space, ''], end: [`${space}\u0000`, ''] }), (e) => e.key[1], (e) => e.value);
    const definitions = publishedDefinitions(db, space).map((id) => ({ id, row: forwardLookup(db.published.getRange({ start: [space, id, ''], end: [space, `${id}\u0000`, ''] }), (e) => e.key[2], (e) => e.value) }));
    for (const { key, value } of db.profiles.getRange({ start: [space, ''], end: [`${space}\u0000`, ''] })) {
      const core = value as { traits?: Record<string, unknown>; traitAt?: Record<string, number>; firstSeen: number; lastSeen: number; links?: string[] };
      const outputs: unknown[] = [];
      for (const d of definitions) {
        const row = d.row(key[1]);
        if (row !== undefined) outputs.push(d.id, row.v, row.at, row.version);
      }
      const record = identity(key[1]);
      const view: ProfileViewRecord = {
        traits: core.traits ?? {},
        traitAt: core.traitAt ?? {},
        firstSeen: core.firstSeen,
        lastSeen: core.lastSeen,
        links: core.links ?? [],
        outputs,
        ids: record === undefined ? null : identityProfileFromPlain(record).ids,
      };
      db.views.put(key, viewToPlain(view));
      written++;
    }
  }
  return written;
}
