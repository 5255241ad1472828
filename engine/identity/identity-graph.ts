/** The identity graph: Segment's flat matching (create, attach, merge) with limits, priority demotion and merge protection; the engine's IdentityResolver. */
import type { FlockEvent } from '../event/model.ts';
import { extractIdentifiers, type Identifier } from './extract-identifiers.ts';
import { unidentified } from './unidentified.ts';
import { invariant } from './invariant.ts';
import { profileIdFor } from './profile-id.ts';
import {
  IDENTITY_RECORD_VERSION,
  type AccountRecord,
  type AccountUserRecord,
  type GroupLinkTuple,
  type IdentifierTuple,
  type IdentityProfileRecord,
  type IdentityReader,
  type IdentityWrites,
  type MergeRecord,
} from './records.ts';
import type { IdentityResolver, ProfileMerge, Resolution } from './resolver.ts';
import { DEFAULT_IDENTITY_RULES, type IdentityRules } from './rules.ts';

export interface IdentityGraphOptions {
  /** the persisted graph (the checkpoint store): read lazily, for what is not in memory yet. */
  readonly source?: IdentityReader;
  /** rules per space; other spaces use Segment's defaults. */
  readonly rules?: ReadonlyMap<string, IdentityRules>;
}

/** Why a candidate resolution was refused (then the event's lowest-priority identifier is demoted). */
export type Refusal = 'merge_limit' | 'identifier_limit' | 'merge_protection' | `limit:${string}`;

export interface IdentityStats {
  /** events resolved to a profile / identifying nobody (no identifier, or all blocked). */
  resolved: number;
  unidentified: number;
  created: number;
  merges: number;
  /** identifiers demoted off an event because a rule refused the resolution, by reason. */
  demotions: Record<string, number>;
  /** identifiers not added because the profile holds the most identifiers allowed. */
  dropped: number;
}

/** One profile in memory: the record's fields, mutable; tuples themselves are never mutated. */
interface Profile {
  readonly id: string;
  readonly c: number;
  readonly t: number;
  readonly m: string;
  n: number;
  readonly ids: IdentifierTuple[];
  readonly groups: GroupLinkTuple[];
}

class SpaceGraph {
  /** type → value → owning canonical profile, or null when known to be nobody's (nested: no key concatenation per lookup). */
  readonly owners = new Map<string, Map<string, string | null>>();
  /** loaded profiles; null: no such profile (never created, or absorbed). */
  readonly profiles = new Map<string, Profile | null>();
  readonly merges = new Map<string, MergeRecord>();
  readonly accounts = new Map<string, AccountRecord | null>();
  /** next creation number (loaded on first use). */
  next = -1;
  constructor(
    readonly space: string,
    readonly rules: IdentityRules,
  ) {}
}

const NO_MERGES: readonly ProfileMerge[] = Object.freeze([]);

export class IdentityGraph implements IdentityResolver, IdentityReader {
  readonly stats: IdentityStats = { resolved: 0, unidentified: 0, created: 0, merges: 0, demotions: {}, dropped: 0 };
  readonly #source: IdentityReader | undefined;
  readonly #rules: ReadonlyMap<string, IdentityRules>;
  readonly #spaces = new Map<string, SpaceGraph>();
  // Changes since the last checkpointWrites().
  readonly #dirtyProfiles = new Map<string, { space: string; profile: Profile; absorbed: boolean }>();
  readonly #dirtyOwners = new Map<string, { space: string; type: string; value: string; profileId: string }>();
  #dirtyMerges: Array<{ space: string; from: string; record: MergeRecord }> = [];
  #dirtyAccounts: Array<{ space: string; groupId: string; record: AccountRecord }> = [];
  readonly #dirtyAccountUsers = new Map<string, { space: string; groupId: string; profileId: string; record: AccountUserRecord | null }>();
  readonly #dirtyCounters = new Set<SpaceGraph>();

  constructor(options: IdentityGraphOptions = {}) {
    this.#source = options.source;
    this.#rules = options.rules ?? new Map();
  }

  #graph(space: string): SpaceGraph {
    let g = this.#spaces.get(space);
    if (g === undefined) {
      g = new SpaceGraph(space, this.#rules.get(space) ?? DEFAULT_IDENTITY_RULES);
      this.#spaces.set(space, g);
    }
    return g;
  }

  #owners(g: SpaceGraph, type: string): Map<string, string | null> {
    let m = g.owners.get(type);
    if (m === undefined) g.owners.set(type, (m = new Map()));
    return m;
  }

  #owner(g: SpaceGraph, type: string, value: string): string | null {
    const owners = this.#owners(g, type);
    let o = owners.get(value);
    if (o === undefined) {
      o = this.#source?.identifierOwner(g.space, type, value) ?? null;
      owners.set(value, o);
    }
    return o;
  }

  #load(g: SpaceGraph, id: string): Profile | null {
    let p = g.profiles.get(id);
    if (p === undefined) {
      const r = this.#source?.identityProfile(g.space, id);
      p = r === undefined ? null : { id, c: r.c, t: r.t, m: r.m, n: r.n, ids: [...r.ids], groups: [...r.groups] };
      g.profiles.set(id, p);
    }
    return p;
  }

  #profile(g: SpaceGraph, id: string): Profile {
    const p = this.#load(g, id);
    invariant(p !== null, `identifier owner ${g.space}/${id} has no profile record`);
    return p;
  }

  /**
   * Resolves an event to its canonical profile (spec §6, flat matching): the profiles matching any of
   * its identifiers — none: create one; one: attach; several: merge into the earliest created. If a
   * rule refuses the result (a per-type limit, merge protection, the merge or identifier limits), the
   * event's lowest-priority identifier is demoted and matching runs again with the rest.
   */
  resolve(event: FlockEvent): Resolution {
    const g = this.#graph(event.space);
    const identifiers = extractIdentifiers(event, g.rules);
    const { users, accounts } = identifiers;
    if (users.length === 0) {
      this.stats.unidentified++;
      // (the tracking API refuses such calls by the same test; JSON producers on the log may send them)
      return { profileId: null, merges: NO_MERGES, skip: unidentified(event, g.rules, identifiers)! };
    }
    this.stats.resolved++;
    // The common case: every identifier known, all on one profile, nothing to link.
    const first = this.#owner(g, users[0]!.type, users[0]!.value);
    if (first !== null && accounts.length === 0) {
      let same = true;
      for (let i = 1; i < users.length && same; i++) same = this.#owner(g, users[i]!.type, users[i]!.value) === first;
      if (same) return { profileId: first, merges: NO_MERGES };
    }
    return this.#resolveSlow(g, event, users, accounts);
  }

  #resolveSlow(g: SpaceGraph, event: FlockEvent, users: Identifier[], accounts: readonly Identifier[]): Resolution {
    const rules = g.rules;
    const ids = users.slice();
    let matched: Profile[];
    let fresh: Identifier[];
    for (;;) {
      matched = [];
      fresh = [];
      for (const id of ids) {
        const o = this.#owner(g, id.type, id.value);
        if (o === null) fresh.push(id);
        else {
          const p = this.#profile(g, o);
          if (!matched.includes(p)) matched.push(p);
        }
      }
      const refusal = refusalOf(rules, matched, fresh, event.timestamp);
      if (refusal === null) break;
      ids.pop();
      this.stats.demotions[refusal] = (this.stats.demotions[refusal] ?? 0) + 1;
      // One identifier alone never breaks a rule: it matches at most one profile and adds at most one value.
      invariant(ids.length > 0, `every identifier of ${event.messageId} was demoted (${refusal})`);
    }
    matched.sort((a, b) => a.c - b.c);
    let profile: Profile;
    let merges: readonly ProfileMerge[] = NO_MERGES;
    if (matched.length === 0) profile = this.#create(g, event, ids[0]!);
    else {
      profile = matched[0]!;
      if (matched.length > 1) {
        const into = profile;
        merges = matched.slice(1).map((from) => {
          this.#absorb(g, from, into, event);
          return { space: g.space, from: from.id, into: into.id };
        });
      }
    }
    let changed = matched.length !== 1;
    for (const id of fresh) {
      // Past the identifier limit no more are added; the event still resolves (Segment's 1,000 mappings).
      if (profile.ids.length >= rules.maxIdentifiers) {
        this.stats.dropped++;
        continue;
      }
      profile.ids.push([id.type, id.value, event.timestamp, event.messageId, event.sourceId, id.raw === id.value ? null : id.raw]);
      this.#setOwner(g, id.type, id.value, profile.id);
      changed = true;
    }
    for (const a of accounts) if (a.type === 'group_id') changed = this.#link(g, profile, a, event) || changed;
    if (changed) this.#dirtyProfile(g, profile, false);
    return { profileId: profile.id, merges };
  }

  #create(g: SpaceGraph, event: FlockEvent, top: Identifier): Profile {
    if (g.next < 0) g.next = this.#source?.identityCounter(g.space) ?? 0;
    let id = profileIdFor(g.space, event.messageId, top.type, top.value);
    for (let attempt = 1; this.#load(g, id) !== null || this.#merge(g, id) !== null; attempt++) id = profileIdFor(g.space, event.messageId, top.type, top.value, attempt);
    const profile: Profile = { id, c: g.next++, t: event.timestamp, m: event.messageId, n: 0, ids: [], groups: [] };
    g.profiles.set(id, profile);
    this.#dirtyCounters.add(g);
    this.stats.created++;
    return profile;
  }

  /** Moves every identifier and account link of `from` to `into`, and records the merge. */
  #absorb(g: SpaceGraph, from: Profile, into: Profile, event: FlockEvent): void {
    for (const t of from.ids) {
      into.ids.push(t);
      this.#setOwner(g, t[0], t[1], into.id);
    }
    for (const link of from.groups) {
      this.#dirtyAccountUsers.set(`${g.space}\u0000${link[0]}\u0000${from.id}`, { space: g.space, groupId: link[0], profileId: from.id, record: null });
      if (into.groups.some((l) => l[0] === link[0])) continue;
      into.groups.push(link);
      this.#dirtyAccountUsers.set(`${g.space}\u0000${link[0]}\u0000${into.id}`, { space: g.space, groupId: link[0], profileId: into.id, record: { at: link[1], messageId: link[2] } });
    }
    into.n += from.n + 1;
    g.profiles.set(from.id, null);
    const record: MergeRecord = { into: into.id, at: event.timestamp, messageId: event.messageId, eventType: event.type };
    g.merges.set(from.id, record);
    this.#dirtyMerges.push({ space: g.space, from: from.id, record });
    this.#dirtyProfile(g, from, true);
    this.stats.merges++;
  }

  /** Records the account (first sighting) and the user ↔ account link. */
  #link(g: SpaceGraph, profile: Profile, account: Identifier, event: FlockEvent): boolean {
    if (this.account(g.space, account.value) === undefined) {
      const record: AccountRecord = { at: event.timestamp, messageId: event.messageId, raw: account.raw === account.value ? null : account.raw };
      g.accounts.set(account.value, record);
      this.#dirtyAccounts.push({ space: g.space, groupId: account.value, record });
    }
    if (profile.groups.some((l) => l[0] === account.value)) return false;
    profile.groups.push([account.value, event.timestamp, event.messageId]);
    this.#dirtyAccountUsers.set(`${g.space}\u0000${account.value}\u0000${profile.id}`, {
      space: g.space,
      groupId: account.value,
      profileId: profile.id,
      record: { at: event.timestamp, messageId: event.messageId },
    });
    return true;
  }

  #setOwner(g: SpaceGraph, type: string, value: string, profileId: string): void {
    this.#owners(g, type).set(value, profileId);
    this.#dirtyOwners.set(`${g.space}\u0000${type}:${value}`, { space: g.space, type, value, profileId });
  }

  #dirtyProfile(g: SpaceGraph, profile: Profile, absorbed: boolean): void {
    this.#dirtyProfiles.set(`${g.space}\u0000${profile.id}`, { space: g.space, profile, absorbed });
  }

  #merge(g: SpaceGraph, id: string): MergeRecord | null {
    // Absent answers are not cached: every created id is probed once, and would stay in memory for nothing.
    const m = g.merges.get(id) ?? this.#source?.identityMerge(g.space, id);
    if (m === undefined) return null;
    g.merges.set(id, m);
    return m;
  }

  /** The graph's changes since the last call, for the checkpoint transaction (the engine writes them with profile state and position). */
  checkpointWrites(): IdentityWrites {
    const profiles = [...this.#dirtyProfiles.values()].map(({ space, profile, absorbed }) => ({
      space,
      id: profile.id,
      record: absorbed ? null : toRecord(profile),
    }));
    const writes: IdentityWrites = {
      profiles,
      identifiers: [...this.#dirtyOwners.values()],
      merges: this.#dirtyMerges,
      accounts: this.#dirtyAccounts,
      accountUsers: [...this.#dirtyAccountUsers.values()],
      counters: [...this.#dirtyCounters].map((g) => ({ space: g.space, next: g.next })),
    };
    this.#dirtyProfiles.clear();
    this.#dirtyOwners.clear();
    this.#dirtyMerges = [];
    this.#dirtyAccounts = [];
    this.#dirtyAccountUsers.clear();
    this.#dirtyCounters.clear();
    return writes;
  }

  // IdentityReader: the graph as it is now (memory first, then the persisted graph) --------------

  identifierOwner(space: string, type: string, value: string): string | undefined {
    return this.#owner(this.#graph(space), type, value) ?? undefined;
  }

  identityProfile(space: string, id: string): IdentityProfileRecord | undefined {
    const p = this.#load(this.#graph(space), id);
    return p === null ? undefined : toRecord(p);
  }

  identityMerge(space: string, id: string): MergeRecord | undefined {
    return this.#merge(this.#graph(space), id) ?? undefined;
  }

  identityCounter(space: string): number {
    const g = this.#graph(space);
    if (g.next < 0) g.next = this.#source?.identityCounter(space) ?? 0;
    return g.next;
  }

  account(space: string, groupId: string): AccountRecord | undefined {
    const g = this.#graph(space);
    let a = g.accounts.get(groupId);
    if (a === undefined) {
      a = this.#source?.account(space, groupId) ?? null;
      g.accounts.set(groupId, a);
    }
    return a ?? undefined;
  }
}

function toRecord(p: Profile): IdentityProfileRecord {
  return { v: IDENTITY_RECORD_VERSION, c: p.c, t: p.t, m: p.m, n: p.n, ids: p.ids.slice(), groups: p.groups.slice() };
}

/**
 * Whether joining the `matched` profiles and adding the `fresh` identifiers would break a rule. A
 * count only refuses when it grows past the limit: a profile already beyond a limit (rules made
 * stricter later) still takes events that add nothing of that type.
 */
function refusalOf(rules: IdentityRules, matched: readonly Profile[], fresh: readonly Identifier[], ts: number): Refusal | null {
  const merging = matched.length > 1;
  if (merging) {
    let n = matched.length - 1;
    let ids = 0;
    for (const p of matched) {
      n += p.n;
      ids += p.ids.length;
    }
    if (n > rules.maxMerges) return 'merge_limit';
    if (ids > rules.maxIdentifiers) return 'identifier_limit';
  }
  // Types whose count may grow: the fresh identifiers' types, and every type when profiles merge.
  const types = new Set<string>();
  for (const f of fresh) types.add(f.type);
  if (merging) for (const p of matched) for (const t of p.ids) types.add(t[0]);
  for (const type of types) {
    const rule = rules.rule(type);
    const since = rule.windowMs === null ? Number.NEGATIVE_INFINITY : ts - rule.windowMs;
    if (grows(matched, fresh, type, since, rule.limit)) return `limit:${type}`;
  }
  // Merge protection: whatever user_id's window, a merge never joins more user_ids than its limit.
  if (merging && rules.mergeProtection && grows(matched, fresh, 'user_id', Number.NEGATIVE_INFINITY, rules.rule('user_id').limit)) return 'merge_protection';
  return null;
}

/** Whether the joined count of `type` (values first seen after `since`) exceeds `limit` and every single profile's count. */
function grows(matched: readonly { readonly ids: readonly IdentifierTuple[] }[], fresh: readonly Identifier[], type: string, since: number, limit: number): boolean {
  let total = 0;
  let most = 0;
  for (const p of matched) {
    let c = 0;
    for (const t of p.ids) if (t[0] === type && t[2] > since) c++;
    total += c;
    if (c > most) most = c;
  }
  for (const f of fresh) if (f.type === type) total++;
  return total > limit && total > most;
}
