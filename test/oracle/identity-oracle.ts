/**
 * The identity oracle: resolves who is who from the full history with Segment's rules, naively (a
 * list of profiles scanned for every identifier, no indexes, no caches, no persistence), then
 * evaluates definitions per resolved person (and per account, over the people who joined it) with the reference oracle's `outputsAt`. It shares
 * with the engine only the id format (`profileIdFor`, a pure hash) and the configuration's JSON shape.
 */
import type { FlockEvent } from '../../engine/event/model.ts';
import { profileIdFor } from '../../engine/identity/profile-id.ts';
import type { BlockedValue, IdentityRulesConfig } from '../../engine/identity/rules.ts';
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import { outputsAt, type HistoryEntry, type Outputs } from './oracle.ts';

interface Id {
  readonly type: string;
  readonly value: string;
}

interface OracleProfile {
  readonly id: string;
  readonly created: number;
  readonly ids: Array<Id & { readonly at: number }>;
  merges: number;
  /** the profile that absorbed this one, if any. */
  into: string | null;
}

export interface OracleResolution {
  readonly profileId: string | null;
  readonly merges: ReadonlyArray<{ readonly from: string; readonly into: string }>;
}

const WINDOWS: Record<string, number | null> = { ever: null, weekly: 7 * 86_400_000, monthly: 30 * 86_400_000, annually: 365 * 86_400_000 };
const SUGGESTED_BLOCKED: readonly BlockedValue[] = [{ pattern: '^[0-]*$' }, { exact: '-1' }, { exact: 'null' }, { exact: 'anonymous' }];

/** The rules as the oracle reads them straight from the configuration. */
class Rules {
  constructor(readonly config: IdentityRulesConfig) {}
  limit(type: string): number {
    return this.config.identifiers?.[type]?.limit ?? (type === 'user_id' ? 1 : 5);
  }
  window(type: string): number | null {
    const w = this.config.identifiers?.[type]?.window;
    return w === undefined ? null : typeof w === 'number' ? w : WINDOWS[w]!;
  }
  rank(type: string): number {
    return this.config.identifiers?.[type]?.priority ?? ({ user_id: 1, email: 2 } as Record<string, number>)[type] ?? Infinity;
  }
  enabled(type: string): boolean {
    return this.config.identifiers?.[type]?.enabled !== false;
  }
  blocked(type: string, value: string): boolean {
    const list = [...(this.config.blocked ?? SUGGESTED_BLOCKED), ...(this.config.identifiers?.[type]?.blocked ?? [])];
    return list.some((b) => ('exact' in b ? b.exact.toLowerCase() === value : new RegExp(b.pattern).test(value)));
  }
  get mergeProtection(): boolean {
    return this.config.mergeProtection !== false;
  }
  get maxMerges(): number {
    return this.config.maxMerges ?? 100;
  }
  get maxIdentifiers(): number {
    return this.config.maxIdentifiers ?? 1000;
  }
}

/** The event's identifiers (spec §6 table), blocked and disabled ones left out, highest priority first. */
function identifiersOf(e: FlockEvent, rules: Rules): Id[] {
  const found: Id[] = [];
  const consider = (type: string, v: unknown) => {
    const text = typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : null;
    if (text === null || text.length > 500 || !rules.enabled(type)) return;
    const value = text.toLowerCase();
    if (rules.blocked(type, value)) return;
    if (!found.some((f) => f.type === type && f.value === value)) found.push({ type, value });
  };
  const ctx = (e.context ?? {}) as Record<string, any>;
  consider('user_id', e.userId);
  consider('anonymous_id', e.anonymousId);
  if (e.type !== 'group') consider('email', (e.traits as Record<string, unknown> | null)?.['email']);
  consider('email', ctx['traits']?.['email']);
  const device = ctx['device'];
  const kind = typeof device?.['type'] === 'string' ? device['type'].toLowerCase() : '';
  if (kind === 'ios' || kind === 'android') {
    consider(`${kind}.id`, device['id']);
    if (device['adTrackingEnabled'] === true) consider(`${kind}.idfa`, device['advertisingId']);
    consider(`${kind}.push_token`, device['token']);
  }
  consider('ga_client_id', ctx['integrations']?.['Google Analytics']?.['clientId'] ?? (e.integrations as Record<string, any> | null)?.['Google Analytics']?.['clientId']);
  for (const x of Array.isArray(ctx['externalIds']) ? ctx['externalIds'] : []) {
    if (x?.collection === 'users' && typeof x.type === 'string' && typeof x.encoding === 'string' && x.id !== undefined && !x.type.includes(':')) consider(x.type.toLowerCase(), x.id);
  }
  return found.sort((a, b) => rules.rank(a.type) - rules.rank(b.type) || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0) || (a.value < b.value ? -1 : 1));
}

/** Resolves every event in order; returns each event's resolution and each profile's survivor at the end. */
export function resolveIdentities(events: readonly FlockEvent[], config: IdentityRulesConfig): { perEvent: OracleResolution[]; canonical: (id: string) => string } {
  const rules = new Rules(config);
  const profiles: OracleProfile[] = [];
  const ownerOf = (id: Id) => profiles.find((p) => p.into === null && p.ids.some((x) => x.type === id.type && x.value === id.value));
  const perEvent: OracleResolution[] = [];
  for (const e of events) {
    const ids = identifiersOf(e, rules);
    if (ids.length === 0) {
      perEvent.push({ profileId: null, merges: [] });
      continue;
    }
    let matched: OracleProfile[] = [];
    let fresh: Id[] = [];
    // Demote the lowest-priority identifier until no rule refuses.
    for (;;) {
      matched = [...new Set(ids.map(ownerOf).filter((p): p is OracleProfile => p !== undefined))].sort((a, b) => a.created - b.created);
      fresh = ids.filter((id) => ownerOf(id) === undefined);
      if (!refused(rules, matched, fresh, e.timestamp)) break;
      ids.pop();
    }
    let target: OracleProfile;
    const merges: Array<{ from: string; into: string }> = [];
    if (matched.length === 0) {
      let attempt = 0;
      let id = profileIdFor(e.space, e.messageId, ids[0]!.type, ids[0]!.value);
      while (profiles.some((p) => p.id === id)) id = profileIdFor(e.space, e.messageId, ids[0]!.type, ids[0]!.value, ++attempt);
      target = { id, created: profiles.length, ids: [], merges: 0, into: null };
      profiles.push(target);
    } else {
      target = matched[0]!;
      for (const other of matched.slice(1)) {
        target.ids.push(...other.ids);
        target.merges += other.merges + 1;
        other.into = target.id;
        merges.push({ from: other.id, into: target.id });
      }
    }
    for (const id of fresh) if (target.ids.length < rules.maxIdentifiers) target.ids.push({ ...id, at: e.timestamp });
    perEvent.push({ profileId: target.id, merges });
  }
  const canonical = (id: string): string => {
    const p = profiles.find((x) => x.id === id);
    return p === undefined || p.into === null ? id : canonical(p.into);
  };
  return { perEvent, canonical };
}

function refused(rules: Rules, matched: readonly OracleProfile[], fresh: readonly Id[], ts: number): boolean {
  const joined = [...matched.flatMap((p) => p.ids), ...fresh.map((f) => ({ ...f, at: ts }))];
  if (matched.length > 1) {
    if (matched.reduce((n, p) => n + p.merges, matched.length - 1) > rules.maxMerges) return true;
    if (matched.reduce((n, p) => n + p.ids.length, 0) > rules.maxIdentifiers) return true;
  }
  // A type's count may not grow past its limit (values first seen within its window).
  const count = (ids: ReadonlyArray<Id & { at: number }>, type: string, window: number | null) => ids.filter((x) => x.type === type && (window === null || x.at > ts - window)).length;
  const types = new Set([...fresh.map((f) => f.type), ...(matched.length > 1 ? joined.map((x) => x.type) : [])]);
  for (const type of types) {
    const w = rules.window(type);
    const total = count(joined, type, w);
    if (total > rules.limit(type) && matched.every((p) => count(p.ids, type, w) < total)) return true;
  }
  if (matched.length > 1 && rules.mergeProtection) {
    const total = count(joined, 'user_id', null);
    if (total > rules.limit('user_id') && matched.every((p) => count(p.ids, 'user_id', null) < total)) return true;
  }
  return false;
}

/** One event of the run as the oracle needs it: arrival instant and order (its profile is the oracle's to decide). */
export interface IdentityHistoryEntry {
  readonly event: FlockEvent;
  readonly arrival: number;
  readonly seq: number;
}

/** Every person's outputs at `t`: identities resolved from the events known at `t`, each person's events together; accounts over the people who joined them. */
export function identityOracleAt(defs: readonly DefinitionInput[], history: readonly IdentityHistoryEntry[], config: IdentityRulesConfig, t: number): Map<string, Outputs> {
  const known = history.filter((h) => h.arrival <= t).sort((a, b) => a.seq - b.seq);
  const { perEvent, canonical } = resolveIdentities(
    known.map((h) => h.event),
    config,
  );
  // A merge at event k: `from` belongs to `into` from event k on (not before).
  const mergedAt = new Map<string, { into: string; at: number }>();
  perEvent.forEach((r, k) => {
    for (const m of r.merges) mergedAt.set(m.from, { into: m.into, at: k });
  });
  const ownerAt = (id: string, i: number): string => {
    const m = mergedAt.get(id);
    return m === undefined || m.at > i ? id : ownerAt(m.into, i);
  };
  const byPerson = new Map<string, HistoryEntry[]>();
  known.forEach((h, i) => {
    const resolved = perEvent[i]!.profileId;
    if (resolved === null) return;
    const person = canonical(resolved);
    // the profile that applied event i, as it was then: the entries resolved to it by then
    const traitsFrom = new Set<number>();
    for (let j = 0; j <= i; j++) {
      const r = perEvent[j]!.profileId;
      if (r !== null && ownerAt(r, i) === resolved) traitsFrom.add(known[j]!.seq);
    }
    const list = byPerson.get(person) ?? [];
    list.push({ event: h.event, profileId: person, arrival: h.arrival, seq: h.seq, traitsFrom });
    byPerson.set(person, list);
  });
  return outputsAt(defs, byPerson, t);
}
