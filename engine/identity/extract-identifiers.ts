/** The identifiers an event carries, read from the locations Segment documents (spec §6), normalised, blocked values dropped, in priority order. */
import { MAX_IDENTIFIER_LENGTH } from '../event/limits.ts';
import type { FlockEvent } from '../event/model.ts';
import { validIdentifierType, type IdentityRules } from './rules.ts';

/** One identifier: its type and its value, lowercased (the form lookups use); `raw` is the spelling sent. */
export interface Identifier {
  readonly type: string;
  readonly value: string;
  readonly raw: string;
  /** the type's explicit rank (Infinity: unranked), kept for ordering. */
  readonly rank: number;
}

export interface EventIdentifiers {
  /** user identifiers, highest priority first (ties by value). */
  readonly users: Identifier[];
  /** account identifiers (`group_id` of group calls, externalIds of collection `accounts`). */
  readonly accounts: Identifier[];
}

type Obj = Record<string, unknown>;

/** Longer values are not promoted (Segment drops a groupId over 500 characters); it also keeps graph keys within LMDB's key size. */
export { MAX_IDENTIFIER_LENGTH };

const asObject = (v: unknown): Obj | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null);

/** Identifier values are strings; numbers (custom ids, phone numbers) are accepted as their text. */
function text(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

/** Priority order (the same as `IdentityRules.compareTypes`), then value. */
function byPriority(a: Identifier, b: Identifier): number {
  if (a.rank !== b.rank) return a.rank < b.rank ? -1 : 1;
  if (a.type !== b.type) return a.type < b.type ? -1 : 1;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/** Why a value is not promoted to an identifier of `type`. */
export type IdentifierProblem = 'absent' | 'not_text' | 'too_long' | 'disabled' | 'blocked';

/** Why `v` would not be promoted to an identifier of `type` under `rules`, or null when it would. */
export function identifierProblem(rules: IdentityRules, type: string, v: unknown): IdentifierProblem | null {
  if (v === null || v === undefined) return 'absent';
  const raw = text(v);
  if (raw === null) return 'not_text';
  if (raw.length > MAX_IDENTIFIER_LENGTH) return 'too_long';
  const rule = rules.rule(type);
  if (!rule.enabled) return 'disabled';
  const value = raw.toLowerCase();
  const blocked = rule.blocked;
  for (let i = 0; i < blocked.length; i++) if (blocked[i]!(value)) return 'blocked';
  return null;
}

/** Adds one identifier unless it is no text, too long, of a disabled type, blocked (`identifierProblem`) or already there. */
function add(rules: IdentityRules, list: Identifier[], type: string, v: unknown): void {
  if (identifierProblem(rules, type, v) !== null) return;
  const raw = text(v)!;
  const value = raw.toLowerCase();
  for (let i = 0; i < list.length; i++) if (list[i]!.type === type && list[i]!.value === value) return;
  list.push({ type, value, raw, rank: rules.rule(type).priority });
}

/**
 * Reads every identifier of `event`:
 * - `user_id` ← userId, `anonymous_id` ← anonymousId (alias calls: `previousId` is not one — aliases do not merge);
 * - `email` ← traits.email (not on group calls, whose traits are the account's) or context.traits.email;
 * - `android.*` / `ios.*` ← context.device: `id`, `advertisingId` (when adTrackingEnabled is true) as `idfa`, `token` as `push_token`, by `type`;
 * - `ga_client_id` ← integrations['Google Analytics'].clientId (in context or top level);
 * - custom types ← context.externalIds `[{id, type, collection, encoding}]` (all four present) and configured trait keys;
 * - `group_id` (accounts) ← groupId of group calls.
 * Disabled types, blocked values (tested lowercased) and values over 500 characters are left out: the value stays on the event, it just identifies nobody.
 */
export function extractIdentifiers(event: FlockEvent, rules: IdentityRules): EventIdentifiers {
  const users: Identifier[] = [];
  const accounts: Identifier[] = [];
  add(rules, users, 'user_id', event.userId);
  add(rules, users, 'anonymous_id', event.anonymousId);
  const traits = event.type === 'group' ? null : asObject(event.traits);
  const context = asObject(event.context);
  const contextTraits = asObject(context?.['traits']);
  if (traits !== null) add(rules, users, 'email', traits['email']);
  if (contextTraits !== null) add(rules, users, 'email', contextTraits['email']);

  const device = asObject(context?.['device']);
  if (device !== null) {
    const kind = typeof device['type'] === 'string' ? device['type'].toLowerCase() : null;
    if (kind === 'android' || kind === 'ios') {
      add(rules, users, `${kind}.id`, device['id']);
      if (device['adTrackingEnabled'] === true) add(rules, users, `${kind}.idfa`, device['advertisingId']);
      add(rules, users, `${kind}.push_token`, device['token']);
    }
  }

  const ga = asObject(asObject(context?.['integrations'])?.['Google Analytics']) ?? asObject(asObject(event.integrations)?.['Google Analytics']);
  if (ga !== null) add(rules, users, 'ga_client_id', ga['clientId']);

  const externalIds = context?.['externalIds'];
  if (Array.isArray(externalIds)) {
    for (const x of externalIds) {
      const e = asObject(x);
      if (e === null || typeof e['type'] !== 'string' || typeof e['collection'] !== 'string' || typeof e['encoding'] !== 'string' || e['id'] === undefined) continue;
      const type = e['type'].toLowerCase();
      if (!validIdentifierType(type)) continue;
      if (e['collection'] === 'users') add(rules, users, type, e['id']);
      else if (e['collection'] === 'accounts') add(rules, accounts, type, e['id']);
    }
  }

  for (const [type, snakeKey, camelKey] of rules.traitKeys) {
    for (const source of [traits, contextTraits, asObject(event.properties)]) {
      if (source === null) continue;
      add(rules, users, type, source[snakeKey] ?? source[camelKey]);
    }
  }

  if (event.type === 'group') add(rules, accounts, 'group_id', event.groupId);

  if (users.length > 1) users.sort(byPriority);
  return { users, accounts };
}
