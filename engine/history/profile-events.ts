/**
 * A profile's events for readers beside the engine (the API): the engine's per-profile event index
 * (read-only store) says which log positions, the event log gives the events.
 */
import type { FlockEvent } from '../event/model.ts';
import { extractIdentifiers } from '../identity/extract-identifiers.ts';
import { DEFAULT_IDENTITY_RULES } from '../identity/rules.ts';
import type { LoggedEvent } from '../log/event-log.ts';
import { ProfileStoreUnavailableError } from '../profiles/profile-reader.ts';
import type { ProfileEvent, ProfileEventIndex } from '../profiles/profile-sources.ts';
import type { StoreHandle } from '../profiles/store-handle.ts';
import type { CheckpointStore } from '../store/checkpoint-store.ts';
import type { ExplainEvent, ExplainMerge } from './explain.ts';

/** What readers need of the event log: events by position. */
export interface EventSource {
  read(from: number, max: number): Promise<LoggedEvent[]>;
}

/** Reads events by log position (consecutive positions in one read); a position the log no longer holds is missing from the map. */
export async function readEvents(log: EventSource, seqs: readonly number[]): Promise<Map<number, FlockEvent>> {
  const sorted = [...new Set(seqs)].sort((a, b) => a - b);
  const out = new Map<number, FlockEvent>();
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    for (const { seq, event } of await log.read(sorted[i]!, j - i + 1)) out.set(seq, event);
    i = j + 1;
  }
  return out;
}

function storeOf(handle: StoreHandle): CheckpointStore {
  const store = handle.get();
  if (store === undefined) throw new ProfileStoreUnavailableError();
  return store;
}

/** The Profile API's `events`: a profile's events, with those of the profiles merged into it. */
export function indexedProfileEvents(handle: StoreHandle, log: EventSource): ProfileEventIndex {
  return {
    async events(space, profileId, query) {
      const store = storeOf(handle);
      const profiles = store.events.members(space, profileId).map((m) => m.profileId);
      const page = store.events.entries(space, profiles, query);
      const events = await readEvents(log, page.entries.map((e) => e.seq));
      const out: ProfileEvent[] = [];
      for (const entry of page.entries) {
        const e = events.get(entry.seq);
        if (e !== undefined) out.push(profileEvent(e));
      }
      return { events: out, hasMore: page.hasMore };
    },
  };
}

/** An event as the Profile API shows it, with the identifiers it carried. */
export function profileEvent(e: FlockEvent): ProfileEvent {
  const ids = extractIdentifiers(e, DEFAULT_IDENTITY_RULES);
  return {
    messageId: e.messageId,
    type: e.type,
    event: e.event,
    timestamp: e.timestamp,
    sourceId: e.sourceId,
    properties: e.properties,
    traits: e.traits,
    context: e.context,
    externalIds: ids.users.map((x) => ({ type: x.type, id: x.raw, collection: 'users' as const, encoding: 'none' as const, createdAt: e.timestamp })),
  };
}

/**
 * What `explain` replays for a profile at `t`, as the version was computed: up to log position
 * `replayedThrough` by a backfill — the log in event time (each event at its timestamp up to
 * `orderedThrough`, replayed in event-time order; after it in log order), identities as resolved then (the profiles
 * merged into this one by then are this one) — and after it by the engine, events at the instants it
 * applied them and merges where they happened. `missing` counts indexed events the log no longer
 * holds (past its retention): an explanation without them may disagree with the history.
 */
export async function explanationEvents(
  store: CheckpointStore,
  log: EventSource,
  space: string,
  profileId: string,
  t: number,
  replayedThrough = 0,
  orderedThrough = 0,
): Promise<{ events: ExplainEvent[]; merges: ExplainMerge[]; missing: number }> {
  const members = store.events.members(space, profileId).filter((m) => m.joinedAt <= t);
  const folded = new Set(members.filter((m) => m.into !== undefined && m.mergedBySeq <= replayedThrough).map((m) => m.profileId));
  const entries = members.flatMap((m) => store.events.known(space, m.profileId, t, replayedThrough, orderedThrough));
  const found = await readEvents(log, entries.map((e) => e.seq));
  const events: ExplainEvent[] = [];
  for (const entry of entries) {
    const event = found.get(entry.seq);
    const as = folded.has(entry.profileId) ? profileId : entry.profileId;
    if (event !== undefined) events.push({ profileId: as, seq: entry.seq, applied: entry.applied, event });
  }
  const merges = members.flatMap((m) => (m.into === undefined || folded.has(m.profileId) ? [] : [{ from: m.profileId, into: folded.has(m.into) ? profileId : m.into, at: m.mergedAt, seq: m.mergedBySeq }]));
  return { events, merges, missing: entries.length - events.length };
}
