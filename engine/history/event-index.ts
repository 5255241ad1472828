/**
 * The per-profile event index in the engine's LMDB: which events each profile had, pointing into the
 * event log — written in the checkpoint transaction, read by the Profile API's `events` and by
 * explanations.
 *
 * - `profile_events` [space, profileId, timestamp, messageId] → [seq, event name, applied?, replayed?]:
 *   one entry per applied event under the profile it resolved to; `seq` is its event-log position,
 *   `applied` the instant the engine applied it when that is not its timestamp (a late event counts
 *   from then), `replayed` the instant a replay of the log in event time applies it (a backfill: the
 *   latest timestamp of the space's events up to it) when later than its timestamp;
 * - `profile_merges` [space, into, from] → [at, seq]: the profiles merged into a profile, the instant
 *   and the log position of the event that merged them. Entries are not moved on a merge: a reader
 *   takes the profile's own and those of the profiles merged into it (as of an instant, for an
 *   explanation — before the merge they were another person).
 */
import type { Database, RootDatabase } from 'lmdb';
import type { ProfileEventQuery } from '../profiles/profile-sources.ts';
import { byKey } from '../store/keys.ts';
import { dbBytes, type LmdbStats } from './history-store.ts';

/** One applied event, as the engine indexes it. */
export interface IndexedEvent {
  readonly space: string;
  readonly profileId: string;
  readonly timestamp: number;
  readonly messageId: string;
  readonly seq: number;
  /** the track name (null for identify, group, alias). */
  readonly name: string | null;
  /** the instant the engine applied it (its watermark then). */
  readonly applied: number;
}

/** A merge, as the engine indexes it: `from` was absorbed into `into` at `at`, by the event at `seq`. */
export interface IndexedMerge {
  readonly space: string;
  readonly from: string;
  readonly into: string;
  readonly at: number;
  readonly seq: number;
}

/** An index entry read back (`applied`: a late event counts from then, a traits write takes effect then). */
export interface EventEntry extends Omit<IndexedEvent, 'space'> {
  /** the instant a replay of the log in event time (a backfill) applies it. */
  readonly replayed: number;
}

/** A profile and the profiles merged into it (transitively). */
export interface ProfileMember {
  readonly profileId: string;
  /** the profile it was merged into (undefined for the profile itself) … */
  readonly into?: string;
  /** … at this instant … */
  readonly mergedAt: number;
  /** … right before the event at this log position. */
  readonly mergedBySeq: number;
  /** when its events became the profile's: the last merge on its way (−∞ for the profile itself). */
  readonly joinedAt: number;
}


type EntryKey = [string, string, number, string];
type StoredEntry = [number, string | null] | [number, string | null, number] | [number, string | null, number, number];

function entryOf(key: EntryKey, value: StoredEntry): EventEntry {
  const timestamp = key[2];
  return { profileId: key[1], timestamp, messageId: key[3], seq: value[0], name: value[1], applied: value[2] ?? timestamp, replayed: value[3] ?? timestamp };
}

export class EventIndex {
  readonly #events: Database<StoredEntry, EntryKey>;
  readonly #merges: Database<[number, number], [string, string, string]>;
  readonly #meta: Database<unknown, string | [string, string]>;

  constructor(env: RootDatabase) {
    this.#events = env.openDB({ name: 'profile_events', encoding: 'msgpack' });
    this.#merges = env.openDB({ name: 'profile_merges', encoding: 'msgpack' });
    this.#meta = env.openDB({ name: 'profile_events_meta', encoding: 'msgpack' });
  }

  // Writes: inside the checkpoint transaction. -----------------------------------------------

  /**
   * Indexes applied events, given in log order, and merges (sorted by key: LMDB appends sorted keys
   * far faster). The latest timestamp of each space so far is kept here too: a replay in event time
   * applies each event at it.
   */
  write(events: readonly IndexedEvent[], merges: readonly IndexedMerge[]): void {
    const latest = new Map<string, number>();
    const writes = events.map((e) => {
      let max = latest.get(e.space) ?? (this.#meta.get(['latest', e.space]) as number | undefined) ?? Number.NEGATIVE_INFINITY;
      if (e.timestamp > max) max = e.timestamp;
      latest.set(e.space, max);
      const value: StoredEntry = max > e.timestamp ? [e.seq, e.name, e.applied, max] : e.applied !== e.timestamp ? [e.seq, e.name, e.applied] : [e.seq, e.name];
      return { key: [e.space, e.profileId, e.timestamp, e.messageId] as EntryKey, value };
    });
    for (const [space, max] of latest) this.#meta.put(['latest', space], max);
    byKey(writes);
    for (const { key, value } of writes) this.#events.put(key, value);
    for (const m of merges) this.#merges.put([m.space, m.into, m.from], [m.at, m.seq]);
  }

  /**
   * Retention (the event log's): entries with a timestamp before `horizon` go, at most `budget` per
   * call, from a durable cursor that wraps around. Returns how many went.
   */
  sweep(horizon: number, budget: number): number {
    const cursor = this.#meta.get('sweep') as EntryKey | undefined;
    let visited = 0;
    let removed = 0;
    let last: EntryKey | undefined;
    for (const key of this.#events.getKeys(cursor === undefined ? {} : ({ start: cursor } as never)) as Iterable<EntryKey>) {
      if (visited++ >= budget) break;
      last = key;
      if (key[2] < horizon) {
        this.#events.remove(key);
        removed++;
      }
    }
    if (visited > budget && last !== undefined) this.#meta.put('sweep', last);
    else this.#meta.remove('sweep');
    return removed;
  }

  // Reads. -------------------------------------------------------------------------------------

  /** Entries and the bytes their pages take. */
  stats(): { readonly entries: number; readonly bytes: number } {
    const s = this.#events.getStats() as LmdbStats;
    return { entries: s.entryCount, bytes: dbBytes(s) };
  }

  /** The profile and every profile merged into it (transitively), with when each joined. */
  members(space: string, profileId: string): ProfileMember[] {
    const out: ProfileMember[] = [{ profileId, mergedAt: Number.NEGATIVE_INFINITY, mergedBySeq: 0, joinedAt: Number.NEGATIVE_INFINITY }];
    const seen = new Set([profileId]);
    for (let i = 0; i < out.length; i++) {
      const into = out[i]!;
      for (const { key, value } of this.#merges.getRange({ start: [space, into.profileId, ''], end: [space, `${into.profileId}\u0000`, ''] })) {
        const from = key[2];
        if (key[1] !== into.profileId || seen.has(from)) continue;
        seen.add(from);
        // absorbed into a profile that was itself absorbed later: it joined this one no earlier than that
        out.push({ profileId: from, into: into.profileId, mergedAt: value[0], mergedBySeq: value[1], joinedAt: Math.max(value[0], into.joinedAt) });
      }
    }
    return out;
  }

  /**
   * One page of the events of `profiles` (a profile and those merged into it), by timestamp then
   * message id, ascending or descending.
   */
  entries(space: string, profiles: readonly string[], query: ProfileEventQuery): { entries: EventEntry[]; hasMore: boolean } {
    const desc = query.sort === 'desc';
    const lo = query.start ?? Number.NEGATIVE_INFINITY;
    const hi = query.end ?? Number.POSITIVE_INFINITY;
    const include = query.include === undefined ? undefined : new Set(query.include);
    const exclude = query.exclude === undefined ? undefined : new Set(query.exclude);
    const after = query.after;
    const sign = desc ? -1 : 1;
    const order = (a: EventEntry, b: { timestamp: number; messageId: string }) =>
      sign * (a.timestamp - b.timestamp || (a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0));
    const found: EventEntry[] = [];
    for (const profileId of profiles) {
      const range = desc
        ? { start: [space, profileId, Math.min(hi, after?.timestamp ?? hi), '\uffff'], end: [space, profileId, lo, ''], reverse: true }
        : { start: [space, profileId, Math.max(lo, after?.timestamp ?? lo), ''], end: [space, profileId, hi, '\uffff'] };
      let n = 0;
      for (const { key, value } of this.#events.getRange(range as never) as Iterable<{ key: EntryKey; value: StoredEntry }>) {
        const entry = entryOf(key, value);
        if (after !== undefined && order(entry, after) <= 0) continue;
        const name = entry.name ?? '';
        if ((include !== undefined && !include.has(name)) || (exclude !== undefined && exclude.has(name))) continue;
        found.push(entry);
        if (++n > query.limit) break;
      }
    }
    found.sort((a, b) => order(a, b));
    return { entries: found.slice(0, query.limit), hasMore: found.length > query.limit };
  }

  /**
   * Every event of one profile id applied by instant `t`: those at or before log position `replayedThrough`
   * as a replay in event time applied them (a backfill computed the version that far: at their
   * timestamp up to `orderedThrough`, which it replayed in event-time order, then in log order), the
   * later ones as the engine did. In timestamp order.
   */
  known(space: string, profileId: string, t: number, replayedThrough = 0, orderedThrough = 0): EventEntry[] {
    const out: EventEntry[] = [];
    // (an event from the future is applied before its timestamp: the whole range is read)
    for (const { key, value } of this.#events.getRange({ start: [space, profileId, Number.NEGATIVE_INFINITY, ''], end: [space, profileId, Number.POSITIVE_INFINITY, ''] }) as Iterable<{ key: EntryKey; value: StoredEntry }>) {
      const entry = entryOf(key, value);
      const at = entry.seq <= orderedThrough ? entry.timestamp : entry.seq <= replayedThrough ? entry.replayed : entry.applied;
      if (at <= t) out.push({ ...entry, applied: at });
    }
    return out;
  }
}
