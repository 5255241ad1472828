/**
 * Membership history in the engine's LMDB: every enter, exit and computed-trait change of every
 * definition version, at its event-time instant, with its cause — written in the checkpoint
 * transaction, read by the as-of queries.
 *
 * Layout (engine/history/README.md):
 * - `history` [space, definitionId, version, profileId, at] → [kind, cause, value?]: one record per
 *   change. A profile's records of one version are contiguous, so "the value at T" is one reverse
 *   seek, the members at T a walk over the version's profiles, and a profile's timeline the merge of
 *   its ranges over the space's versions;
 * - `history_versions` [space, definitionId, version] → {kind, key, live}: the versions with history,
 *   and the log position up to which a backfill replayed the version (the live engine computed the rest);
 * - `history_sizes` [space, definitionId, version, day] → [Σ, minute, Δ, minute, Δ, …]: the size deltas
 *   of the day's changes by the minute at or after them (a change counts from the next aligned
 *   minute on) and their sum: the size at a minute-aligned instant is the sum of the days before
 *   it and of that day's minutes up to it — one record per day that had changes;
 * - `history_meta`: versions being compacted, the retention sweep's cursor and the retained horizon.
 */
import type { Database, RootDatabase, Transaction } from 'lmdb';
import type { Change, ChangeCause } from '../runtime/change.ts';
import { byKey, sortGrouped } from '../store/keys.ts';

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

export type HistoryKind = 'enter' | 'exit' | 'trait';

/** One change of one definition version on one profile. */
export interface HistoryEntry {
  readonly space: string;
  readonly definitionId: string;
  readonly version: number;
  readonly profileId: string;
  /** the event-time instant of the flip (epoch ms). */
  readonly at: number;
  readonly kind: HistoryKind;
  /** trait changes: the new value (undefined: the trait has no value from `at` on). */
  readonly value?: unknown;
  readonly cause?: ChangeCause;
}

/** A definition version with history. */
export interface HistoryVersion {
  readonly definitionId: string;
  readonly version: number;
  readonly kind: 'audience' | 'trait';
  readonly key: string;
  /** a backfill replayed the log in event time up to this position; the live engine computed the rest (0: all of it). */
  readonly replayedThrough?: number;
  /** … in event-time order (timestamp, then position) up to this one, then in log order. */
  readonly orderedThrough?: number;
}

/** Reads through a pinned read transaction (engine/store/store-snapshot.ts); default: lmdb-js's current one. */
export interface ReadOptions {
  readonly transaction?: Transaction;
}

type CatalogValue = { kind: 'audience' | 'trait'; key: string; live?: number; ordered?: number };

/** A member (or valued profile) at an instant: its value and the change that made it so. */
export interface MemberAt {
  readonly profileId: string;
  /** true for an audience member, the value for a computed trait. */
  readonly value: unknown;
  /** when it entered or took this value. */
  readonly since: number;
  readonly cause?: ChangeCause;
}

export interface TimelineQuery {
  /** inclusive bounds on `at`. */
  readonly start?: number;
  readonly end?: number;
  readonly sort: 'asc' | 'desc';
  readonly limit: number;
  /** keyset position: the last entry of the previous page. */
  readonly after?: { readonly at: number; readonly definitionId: string; readonly version: number };
  /** only these versions (default: every version with history). */
  readonly versions?: readonly HistoryVersion[];
}

export type SizeStep = 'minute' | 'hour' | 'day';
export const SIZE_STEP_MS: Readonly<Record<SizeStep, number>> = { minute: MINUTE_MS, hour: 3_600_000, day: DAY_MS };

type RecordKey = [string, string, number, string, number];
type SizeKey = [string, string, number, number];
/** [day total, minute index, delta, minute index, delta, …] with minute indices ascending. */
type DayDeltas = number[];
/** [kind (0 enter, 1 exit, 2 trait), cause, value (traits with a value)]. */
type StoredRecord = [number, StoredCause, unknown?];
/** an event's message id; 0: time; ['m', messageId?]: merge; ['v', from]: version switch; null: unknown. */
type StoredCause = string | 0 | ['m'] | ['m', string] | ['v', number] | null;

const KINDS: readonly HistoryKind[] = ['enter', 'exit', 'trait'];

function encodeCause(cause: ChangeCause | undefined): StoredCause {
  if (cause === undefined) return null;
  switch (cause.type) {
    case 'event':
      return cause.messageId;
    case 'time':
      return 0;
    case 'merge':
      return cause.messageId === undefined ? ['m'] : ['m', cause.messageId];
    case 'version':
      return ['v', cause.from];
  }
}

function decodeCause(stored: StoredCause): ChangeCause | undefined {
  if (stored === null) return undefined;
  if (stored === 0) return { type: 'time' };
  if (typeof stored === 'string') return { type: 'event', messageId: stored };
  if (stored[0] === 'v') return { type: 'version', from: stored[1] };
  return stored.length === 2 ? { type: 'merge', messageId: stored[1] } : { type: 'merge' };
}

function entryOf(key: RecordKey, stored: StoredRecord): HistoryEntry {
  const [space, definitionId, version, profileId, at] = key;
  const kind = KINDS[stored[0]]!;
  const cause = decodeCause(stored[1]);
  return {
    space,
    definitionId,
    version,
    profileId,
    at,
    kind,
    ...(stored.length > 2 ? { value: stored[2] } : {}),
    ...(cause === undefined ? {} : { cause }),
  };
}

function versionOf(key: [string, string, number], value: CatalogValue): HistoryVersion {
  return { definitionId: key[1], version: key[2], kind: value.kind, key: value.key, ...(value.live === undefined ? {} : { replayedThrough: value.live }), ...(value.ordered === undefined ? {} : { orderedThrough: value.ordered }) };
}

/** Whether the entry leaves the profile in the audience (or with a trait value). */
export function holds(entry: HistoryEntry): boolean {
  return entry.kind === 'enter' || (entry.kind === 'trait' && entry.value !== undefined);
}

/** The profile's output after the entry: true for a member, the trait's value; undefined when out or valueless. */
export function outputOf(entry: HistoryEntry): unknown {
  if (entry.kind === 'trait') return entry.value;
  return entry.kind === 'enter' ? true : undefined;
}

/** Whether the profile was in (or had a value, null included) just before change `c`. */
function holdsBefore(c: Change): boolean {
  return c.kind === 'trait' ? c.previous !== undefined : c.kind === 'exit';
}

/** Whether the profile is in (or has a value, null included) after change `c`. */
function holdsAfter(c: Change): boolean {
  return c.kind === 'trait' ? c.value !== undefined : c.kind === 'enter';
}

function sameJson(a: unknown, b: unknown): boolean {
  return a === b || (a !== undefined && b !== undefined && JSON.stringify(a) === JSON.stringify(b));
}

/** What lmdb-js reports of a database. */
export interface LmdbStats {
  readonly pageSize: number;
  readonly treeBranchPageCount: number;
  readonly treeLeafPageCount: number;
  readonly overflowPages: number;
  readonly entryCount: number;
}

/** The bytes a database's pages take. */
export function dbBytes(s: LmdbStats): number {
  return s.pageSize * (s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages);
}

function ceilTo(t: number, step: number): number {
  return Math.ceil(t / step) * step;
}

function floorTo(t: number, step: number): number {
  return Math.floor(t / step) * step;
}

export class HistoryStore {
  readonly #records: Database<StoredRecord, RecordKey>;
  readonly #versions: Database<CatalogValue, [string, string, number]>;
  readonly #sizes: Database<DayDeltas, SizeKey>;
  readonly #meta: Database<unknown, Array<string | number>>;

  constructor(env: RootDatabase) {
    this.#records = env.openDB({ name: 'history', encoding: 'msgpack' });
    this.#versions = env.openDB({ name: 'history_versions', encoding: 'msgpack' });
    this.#sizes = env.openDB({ name: 'history_sizes', encoding: 'msgpack' });
    this.#meta = env.openDB({ name: 'history_meta', encoding: 'msgpack' });
  }

  // Writes: inside the checkpoint transaction. -----------------------------------------------

  /**
   * Records `changes` (runtime and backfill changes, never a switch's announced difference): one
   * record per (version, profile, instant) — the state after that instant — its version in the
   * catalog, and its size delta. The same change twice is one change; several changes at one instant
   * (a new profile enters by default and leaves at once) are their net effect, none when they cancel
   * out. Returns the records written.
   */
  write(changes: readonly Change[]): number {
    if (changes.length === 0) return 0;
    const groups = new Map<string, { key: RecordKey; changes: Change[] }>();
    for (const c of changes) {
      const id = `${c.space}\u0000${c.definitionId}\u0000${c.version}\u0000${c.profileId}\u0000${c.at}`;
      const group = groups.get(id);
      if (group === undefined) groups.set(id, { key: [c.space, c.definitionId, c.version, c.profileId, c.at], changes: [c] });
      else if (!group.changes.some((x) => x.id === c.id)) group.changes.push(c);
    }
    const writes = sortGrouped([...groups.values()], (g) => `${g.key[0]}\u0000${g.key[1]}\u0000${g.key[2]}`, (g) => `${g.key[3]}\u0000${g.key[4]}`);
    const sizes = new Map<string, { key: SizeKey; deltas: Map<number, number> }>();
    const addSize = (c: Change, delta: number) => {
      const minute = ceilTo(c.at, MINUTE_MS);
      const day = floorTo(minute, DAY_MS);
      const id = `${c.space}\u0000${c.definitionId}\u0000${c.version}\u0000${day}`;
      let entry = sizes.get(id);
      if (entry === undefined) sizes.set(id, (entry = { key: [c.space, c.definitionId, c.version, day], deltas: new Map() }));
      const m = (minute - day) / MINUTE_MS;
      entry.deltas.set(m, (entry.deltas.get(m) ?? 0) + delta);
    };
    let lastVersion = '';
    let written = 0;
    for (const { key, changes: group } of writes) {
      const c = group[group.length - 1]!;
      const before = holdsBefore(group[0]!);
      const after = holdsAfter(c);
      // changes that cancel out at one instant leave nothing
      if (group.length > 1 && before === after && (c.kind !== 'trait' || sameJson(group[0]!.kind === 'trait' ? group[0]!.previous : undefined, c.value))) continue;
      const delta = Number(after) - Number(before);
      const kind = c.kind === 'enter' ? 0 : c.kind === 'exit' ? 1 : 2;
      const cause = encodeCause(c.cause);
      this.#records.put(key, c.kind === 'trait' && c.value !== undefined ? [kind, cause, c.value] : [kind, cause]);
      written++;
      const version = `${c.space}\u0000${c.definitionId}\u0000${c.version}`;
      if (version !== lastVersion) {
        lastVersion = version;
        const vKey: [string, string, number] = [c.space, c.definitionId, c.version];
        if (this.#versions.get(vKey) === undefined) this.#versions.put(vKey, { kind: c.kind === 'trait' ? 'trait' : 'audience', key: c.kind === 'trait' ? c.traitKey : c.audienceKey });
      }
      if (delta !== 0) addSize(c, delta);
    }
    for (const { key, deltas } of byKey([...sizes.values()])) {
      const merged = new Map<number, number>();
      const old = this.#sizes.get(key);
      if (old !== undefined) for (let i = 1; i < old.length; i += 2) merged.set(old[i]!, old[i + 1]!);
      for (const [m, d] of deltas) merged.set(m, (merged.get(m) ?? 0) + d);
      const record: DayDeltas = [0];
      for (const m of [...merged.keys()].sort((a, b) => a - b)) {
        const d = merged.get(m)!;
        if (d === 0) continue;
        record.push(m, d);
        record[0]! += d;
      }
      if (record.length === 1 && old !== undefined) this.#sizes.remove(key);
      else if (record.length > 1) this.#sizes.put(key, record);
    }
    return written;
  }

  /** Notes that a backfill computed the version up to log position `seq` (in event-time order up to `ordered`), when it went live. */
  setReplayedThrough(space: string, definitionId: string, version: number, entry: { kind: 'audience' | 'trait'; key: string }, seq: number, ordered = 0): void {
    this.#versions.put([space, definitionId, version], { kind: entry.kind, key: entry.key, live: seq, ...(ordered > 0 ? { ordered } : {}) });
  }

  /**
   * A superseded version's history is dropped (its successor's backfill replayed the same past): it
   * leaves the catalog at once, and its records go in bounded steps (`compactStep`), so a large
   * version never makes one checkpoint long. The request is durable: a restart finishes it.
   */
  requestCompaction(space: string, definitionId: string, version: number): void {
    this.#versions.remove([space, definitionId, version]);
    this.#meta.put(['compact', space, definitionId, version], true);
  }

  /**
   * Drops a version's history at once (records and sizes; the catalog entry stays): before the
   * history of the same version computed again is written, in the same transaction. Rare (a
   * definition enabled again) and proportional to the version's history.
   */
  dropVersion(space: string, definitionId: string, version: number): void {
    for (const db of [this.#records, this.#sizes] as unknown as Array<Database<unknown, Array<string | number>>>) {
      for (const k of [...db.getKeys({ start: [space, definitionId, version], end: [space, definitionId, version + 1] })]) db.remove(k);
    }
  }

  /** Deletes up to `budget` records (and size buckets) of versions being compacted; returns how many. */
  compactStep(budget: number): number {
    let done = 0;
    for (const { key } of [...this.#meta.getRange({ start: ['compact'], end: ['compact\u0000'] })]) {
      const [, space, definitionId, version] = key as [string, string, string, number];
      for (const db of [this.#records, this.#sizes] as unknown as Array<Database<unknown, Array<string | number>>>) {
        for (const k of [...db.getKeys({ start: [space, definitionId, version], end: [space, definitionId, version + 1], limit: budget - done })]) {
          db.remove(k);
          done++;
        }
      }
      if (done >= budget) return done;
      this.#meta.remove(key);
    }
    return done;
  }

  /** Versions whose compaction has not finished. */
  compacting(): Array<{ space: string; definitionId: string; version: number }> {
    return [...this.#meta.getKeys({ start: ['compact'], end: ['compact\u0000'] })].map((k) => ({ space: k[1] as string, definitionId: k[2] as string, version: k[3] as number }));
  }

  /**
   * Retention: records older than `horizon` go, in steps of at most `budget` records visited, from a
   * durable cursor that wraps around. Per (version, profile) the last record before the horizon stays
   * when it still holds (a member who entered long ago is still a member), so every answer at an
   * instant ≥ horizon is unchanged; minute buckets before the horizon's day go (days stay).
   */
  sweep(horizon: number, budget: number): number {
    const cursor = this.#meta.get(['sweep']) as [string, string, number, string] | undefined;
    let visited = 0;
    let removed = 0;
    let group: Array<{ key: RecordKey; stored: StoredRecord }> = [];
    let done: [string, string, number, string] | undefined;
    let complete = true;
    const flush = () => {
      // a (version, profile)'s records before the horizon: all but the last go, and the last too when it no longer holds
      const before = group.filter((r) => r.key[4] < horizon);
      for (let i = 0; i < before.length; i++) {
        const r = before[i]!;
        if (i < before.length - 1 || !holds(entryOf(r.key, r.stored))) {
          this.#records.remove(r.key);
          removed++;
        }
      }
      const k = group[0]!.key;
      done = [k[0], k[1], k[2], k[3]];
      group = [];
    };
    const range = cursor === undefined ? {} : { start: [...cursor, Number.POSITIVE_INFINITY] };
    for (const { key, value } of this.#records.getRange(range as never) as Iterable<{ key: RecordKey; value: StoredRecord }>) {
      const first = group[0]?.key;
      if (first !== undefined && (key[0] !== first[0] || key[1] !== first[1] || key[2] !== first[2] || key[3] !== first[3])) {
        flush();
        if (visited >= budget) {
          complete = false;
          break;
        }
      }
      group.push({ key, stored: value });
      visited++;
    }
    if (!complete) {
      this.#meta.put(['sweep'], done);
      return removed;
    }
    if (group.length > 0) flush();
    // a full pass: the days before the horizon's become one total (sizes at later instants only sum them), and the next pass starts over
    this.#meta.remove(['sweep']);
    const day = floorTo(horizon, DAY_MS);
    for (const { key } of this.#versions.getRange({})) {
      const [space, definitionId, version] = key;
      const old = [...this.#sizes.getRange({ start: [space, definitionId, version, Number.NEGATIVE_INFINITY], end: [space, definitionId, version, day] })];
      if (old.length <= 1 && (old[0] === undefined || old[0].value.length === 1)) continue;
      let total = 0;
      for (const { key: k, value } of old) {
        total += value[0]!;
        this.#sizes.remove(k);
      }
      if (total !== 0) this.#sizes.put([space, definitionId, version, day - DAY_MS], [total]);
    }
    return removed;
  }

  /** Sets the instant from which answers are complete (the retention horizon, or −∞). */
  setRetainedFrom(t: number): void {
    if (this.retainedFrom() !== t) this.#meta.put(['retained'], t);
  }

  // Reads. -------------------------------------------------------------------------------------

  /** Records and the bytes their pages take (the history's size, for benchmarks and operators). */
  stats(): { readonly records: number; readonly bytes: number; readonly sizeBuckets: number; readonly sizeBytes: number } {
    const records = this.#records.getStats() as LmdbStats;
    const sizes = this.#sizes.getStats() as LmdbStats;
    return { records: records.entryCount, bytes: dbBytes(records), sizeBuckets: sizes.entryCount, sizeBytes: dbBytes(sizes) };
  }

  /** The instant from which the history is complete (retention). */
  retainedFrom(): number {
    return (this.#meta.get(['retained']) as number | undefined) ?? Number.NEGATIVE_INFINITY;
  }

  /** The versions of a space with history. */
  versions(space: string): HistoryVersion[] {
    return [...this.#versions.getRange({ start: [space], end: [`${space}\u0000`] })].map(({ key, value }) => versionOf(key, value));
  }

  /** One version of the catalog, if it has history. */
  version(space: string, definitionId: string, version: number): HistoryVersion | undefined {
    const value = this.#versions.get([space, definitionId, version]);
    return value === undefined ? undefined : versionOf([space, definitionId, version], value);
  }

  /** The profile's last entry at or before `t` (its state at t), if any. `read.transaction`: a pinned read transaction (engine/store/store-snapshot.ts). */
  entryAt(space: string, definitionId: string, version: number, profileId: string, t: number, read: ReadOptions = {}): HistoryEntry | undefined {
    for (const { key, value } of this.#records.getRange({ start: [space, definitionId, version, profileId, t], end: [space, definitionId, version, profileId, Number.NEGATIVE_INFINITY], reverse: true, limit: 1, ...read })) {
      return entryOf(key, value);
    }
    return undefined;
  }

  /** The profile's output at `t` (true for a member, a trait's value; undefined when out or valueless). */
  valueAt(space: string, definitionId: string, version: number, profileId: string, t: number, read: ReadOptions = {}): unknown {
    const entry = this.entryAt(space, definitionId, version, profileId, t, read);
    return entry === undefined ? undefined : outputOf(entry);
  }

  /** Every entry of one profile and version, oldest first. */
  entries(space: string, definitionId: string, version: number, profileId: string): HistoryEntry[] {
    return [...this.#records.getRange({ start: [space, definitionId, version, profileId, Number.NEGATIVE_INFINITY], end: [space, definitionId, version, profileId, Number.POSITIVE_INFINITY] })].map(({ key, value }) =>
      entryOf(key, value),
    );
  }

  /**
   * The members (valued profiles) of a version at instant `t`, by profile id after `after`: per
   * profile with history, one seek to the next profile and one to its last entry at or before t.
   */
  membersAt(space: string, definitionId: string, version: number, t: number, page: { after?: string; limit: number }, read: ReadOptions = {}): { members: MemberAt[]; hasMore: boolean } {
    const members: MemberAt[] = [];
    let cursor = page.after ?? '';
    for (;;) {
      let next: string | undefined;
      for (const key of this.#records.getKeys({ start: [space, definitionId, version, cursor, Number.POSITIVE_INFINITY], end: [space, definitionId, version + 1], limit: 1, ...read })) next = key[3];
      if (next === undefined) return { members, hasMore: false };
      cursor = next;
      const entry = this.entryAt(space, definitionId, version, next, t, read);
      if (entry === undefined || !holds(entry)) continue;
      if (members.length === page.limit) return { members, hasMore: true };
      members.push({ profileId: next, value: outputOf(entry), since: entry.at, ...(entry.cause === undefined ? {} : { cause: entry.cause }) });
    }
  }

  /** A profile's changes over the given versions (default: all of the space), by instant. */
  timeline(space: string, profileId: string, query: TimelineQuery): { entries: HistoryEntry[]; hasMore: boolean } {
    const lo = query.start ?? Number.NEGATIVE_INFINITY;
    const hi = query.end ?? Number.POSITIVE_INFINITY;
    const desc = query.sort === 'desc';
    const after = query.after;
    const order = (a: HistoryEntry, b: HistoryEntry) => (a.at - b.at || (a.definitionId < b.definitionId ? -1 : a.definitionId > b.definitionId ? 1 : a.version - b.version)) * (desc ? -1 : 1);
    const pastCursor = (e: HistoryEntry) => after === undefined || order(e, { ...e, at: after.at, definitionId: after.definitionId, version: after.version }) > 0;
    const found: HistoryEntry[] = [];
    for (const v of query.versions ?? this.versions(space)) {
      const from = after === undefined ? (desc ? hi : lo) : after.at;
      const range = desc
        ? { start: [space, v.definitionId, v.version, profileId, Math.min(from, hi)], end: [space, v.definitionId, v.version, profileId, lo - 1], reverse: true }
        : { start: [space, v.definitionId, v.version, profileId, Math.max(from, lo)], end: [space, v.definitionId, v.version, profileId, hi + 1] };
      let n = 0;
      for (const { key, value } of this.#records.getRange(range as never) as Iterable<{ key: RecordKey; value: StoredRecord }>) {
        const e = entryOf(key, value);
        if (!pastCursor(e)) continue;
        found.push(e);
        if (++n > query.limit) break;
      }
    }
    found.sort(order);
    return { entries: found.slice(0, query.limit), hasMore: found.length > query.limit };
  }

  /**
   * The size of a version at instants `from`, `from + step`, … ≤ `to` (aligned down to the step):
   * each point counts the changes at or before its instant, so it equals the members at that instant.
   */
  sizeSeries(space: string, definitionId: string, version: number, range: { from: number; to: number; step: SizeStep }): Array<{ at: number; count: number }> {
    const step = SIZE_STEP_MS[range.step];
    const from = floorTo(range.from, step);
    const to = floorTo(range.to, step);
    const fromDay = floorTo(from, DAY_MS);
    let size = 0;
    // whole days before the first point's day, then every minute's delta from there to the last point
    for (const { value } of this.#sizes.getRange({ start: [space, definitionId, version, Number.NEGATIVE_INFINITY], end: [space, definitionId, version, fromDay] })) size += value[0]!;
    const deltas: Array<[number, number]> = [];
    for (const { key, value } of this.#sizes.getRange({ start: [space, definitionId, version, fromDay], end: [space, definitionId, version, to + 1] })) {
      for (let i = 1; i < value.length; i += 2) deltas.push([key[3] + value[i]! * MINUTE_MS, value[i + 1]!]);
    }
    const points: Array<{ at: number; count: number }> = [];
    let next = 0;
    for (let t = from; t <= to; t += step) {
      while (next < deltas.length && deltas[next]![0] <= t) size += deltas[next++]![1];
      points.push({ at: t, count: size });
    }
    return points;
  }
}
