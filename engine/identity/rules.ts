/** A space's identity resolution rules (Segment Unify's settings): limits, priorities, blocked values, merge protection, with Segment's defaults. */
import { invariant } from './invariant.ts';

/** How long a limit counts values: `ever`, or values first seen within the window before the event. */
export const LIMIT_WINDOWS = { ever: null, weekly: 7 * 86_400_000, monthly: 30 * 86_400_000, annually: 365 * 86_400_000 } as const;
export type LimitWindow = keyof typeof LIMIT_WINDOWS;

/** A blocked value: an exact value or a pattern (tested against the lowercased value). */
export type BlockedValue = { readonly exact: string } | { readonly pattern: string };

/** Segment's suggested blocked values, applied to every identifier by default. */
export const DEFAULT_BLOCKED: readonly BlockedValue[] = [{ pattern: '^[0-]*$' }, { exact: '-1' }, { exact: 'null' }, { exact: 'anonymous' }];

/** The identifiers Segment promotes by default (new spaces: the 11 of the docs). */
export const DEFAULT_IDENTIFIER_TYPES = [
  'user_id',
  'email',
  'android.id',
  'android.idfa',
  'android.push_token',
  'anonymous_id',
  'ga_client_id',
  'group_id',
  'ios.id',
  'ios.idfa',
  'ios.push_token',
] as const;

/** One identifier type's settings as configured (JSON). */
export interface IdentifierConfig {
  /** most values of this type on one profile; default 1 for `user_id`, 5 for the rest. */
  readonly limit?: number;
  /** `ever` (default), `weekly`, `monthly`, `annually`, or a window in milliseconds. */
  readonly window?: LimitWindow | number;
  /** explicit rank (1 = highest). Unranked types follow every ranked one, alphabetically. */
  readonly priority?: number;
  /** false: never promote this type (e.g. a shared in-store device id). */
  readonly enabled?: boolean;
  /** a custom identifier read from this trait / property key (snake_case or camelCase) in `traits`, `context.traits` and `properties`. */
  readonly traitKey?: string;
  /** values blocked for this type only, besides the space-wide ones. */
  readonly blocked?: readonly BlockedValue[];
}

/** A space's identity settings as configured (JSON); everything optional. */
export interface IdentityRulesConfig {
  readonly identifiers?: Readonly<Record<string, IdentifierConfig>>;
  /** space-wide blocked values; default Segment's suggestion (`^[0-]*$`, `-1`, `null`, `anonymous`). */
  readonly blocked?: readonly BlockedValue[];
  /** refuse a merge that would put more user_ids on one profile than user_id's limit allows, ever (default true). */
  readonly mergeProtection?: boolean;
  /** most merges a profile may absorb (Segment: 100). */
  readonly maxMerges?: number;
  /** most identifiers on a profile (Segment: 1,000); past it no more are added, events still resolve. */
  readonly maxIdentifiers?: number;
}

export interface IdentifierRule {
  readonly limit: number;
  /** null: ever. */
  readonly windowMs: number | null;
  /** explicit rank, or Infinity. */
  readonly priority: number;
  readonly enabled: boolean;
  readonly traitKey: string | null;
  readonly blocked: readonly Blocker[];
}

/** Whether a (lowercased) value is blocked. */
export type Blocker = (value: string) => boolean;

/** The resolved rules the resolver applies. */
export interface IdentityRules {
  rule(type: string): IdentifierRule;
  /** < 0 when `a` outranks `b` (user_id, email, then explicit ranks, then alphabetical). */
  compareTypes(a: string, b: string): number;
  /** whether `value` (already lowercased) may not become an identifier of `type`. */
  isBlocked(type: string, value: string): boolean;
  /** custom identifiers read from traits / properties: [type, snake_case key, camelCase key]. */
  readonly traitKeys: ReadonlyArray<readonly [type: string, snake: string, camel: string]>;
  readonly mergeProtection: boolean;
  readonly maxMerges: number;
  readonly maxIdentifiers: number;
}

export type IdentityRulesIssueCode = 'invalid_limit' | 'invalid_window' | 'invalid_priority' | 'invalid_pattern' | 'invalid_type' | 'invalid_setting';

export interface IdentityRulesIssue {
  readonly code: IdentityRulesIssueCode;
  /** where in the configuration, e.g. `identifiers.email.limit`. */
  readonly path: string;
  readonly message: string;
}

export type IdentityRulesResult = { readonly ok: true; readonly rules: IdentityRules } | { readonly ok: false; readonly issues: readonly IdentityRulesIssue[] };

/** Built-in ranks: Segment orders user_id and email first and second. */
const BUILT_IN_PRIORITY: Readonly<Record<string, number>> = { user_id: 1, email: 2 };

function blockerOf(b: BlockedValue): Blocker {
  if ('exact' in b) {
    const v = b.exact.toLowerCase();
    return (value) => value === v;
  }
  const re = new RegExp(b.pattern);
  return (value) => re.test(value);
}

const camel = (key: string) => key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** Identifier types are lowercase and never contain `:` (the `type:value` form of lookups). */
export function validIdentifierType(type: string): boolean {
  return type.length > 0 && type.length <= 100 && !type.includes(':') && type === type.toLowerCase();
}

/** Validates a space's identity configuration; problems come back as data, one per setting. */
export function identityRules(config: IdentityRulesConfig = {}): IdentityRulesResult {
  const issues: IdentityRulesIssue[] = [];
  const checkBlocked = (list: readonly BlockedValue[] | undefined, path: string): Blocker[] => {
    const out: Blocker[] = [];
    (list ?? []).forEach((b, i) => {
      if (b === null || typeof b !== 'object' || !(('exact' in b && typeof b.exact === 'string') || ('pattern' in b && typeof b.pattern === 'string'))) {
        issues.push({ code: 'invalid_pattern', path: `${path}[${i}]`, message: 'a blocked value is {"exact": "…"} or {"pattern": "…"}' });
        return;
      }
      try {
        out.push(blockerOf(b));
      } catch (e) {
        issues.push({ code: 'invalid_pattern', path: `${path}[${i}]`, message: `not a regular expression: ${(e as Error).message}` });
      }
    });
    return out;
  };
  const positiveInt = (v: unknown, path: string, code: IdentityRulesIssueCode, what: string): number | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      issues.push({ code, path, message: `${what} must be a whole number ≥ 1` });
      return undefined;
    }
    return v;
  };

  const spaceBlocked = checkBlocked(config.blocked ?? DEFAULT_BLOCKED, 'blocked');
  const rules = new Map<string, IdentifierRule>();
  const traitKeys: Array<readonly [string, string, string]> = [];
  for (const [type, c] of Object.entries(config.identifiers ?? {})) {
    const path = `identifiers.${type}`;
    if (!validIdentifierType(type)) {
      issues.push({ code: 'invalid_type', path, message: 'an identifier type is lowercase, at most 100 characters, without ":"' });
      continue;
    }
    const limit = positiveInt(c.limit, `${path}.limit`, 'invalid_limit', 'a limit') ?? (type === 'user_id' ? 1 : 5);
    let windowMs: number | null = null;
    if (c.window !== undefined) {
      if (typeof c.window === 'number' && Number.isFinite(c.window) && c.window > 0) windowMs = c.window;
      else if (typeof c.window === 'string' && c.window in LIMIT_WINDOWS) windowMs = LIMIT_WINDOWS[c.window];
      else issues.push({ code: 'invalid_window', path: `${path}.window`, message: 'a window is ever, weekly, monthly, annually or a number of milliseconds > 0' });
    }
    const priority = positiveInt(c.priority, `${path}.priority`, 'invalid_priority', 'a priority') ?? BUILT_IN_PRIORITY[type] ?? Number.POSITIVE_INFINITY;
    if (c.enabled !== undefined && typeof c.enabled !== 'boolean') issues.push({ code: 'invalid_setting', path: `${path}.enabled`, message: 'enabled is true or false' });
    let traitKey: string | null = null;
    if (c.traitKey !== undefined) {
      if (typeof c.traitKey !== 'string' || c.traitKey === '') issues.push({ code: 'invalid_setting', path: `${path}.traitKey`, message: 'a trait key is a non-empty string' });
      else {
        traitKey = c.traitKey;
        traitKeys.push([type, snake(traitKey), camel(traitKey)]);
      }
    }
    const blocked = [...spaceBlocked, ...checkBlocked(c.blocked, `${path}.blocked`)];
    rules.set(type, { limit, windowMs, priority, enabled: c.enabled !== false, traitKey, blocked });
  }
  const bounded = (v: unknown, key: 'maxMerges' | 'maxIdentifiers', fallback: number) => positiveInt(v, key, 'invalid_setting', key) ?? fallback;
  const maxMerges = bounded(config.maxMerges, 'maxMerges', 100);
  const maxIdentifiers = bounded(config.maxIdentifiers, 'maxIdentifiers', 1000);
  if (config.mergeProtection !== undefined && typeof config.mergeProtection !== 'boolean') {
    issues.push({ code: 'invalid_setting', path: 'mergeProtection', message: 'mergeProtection is true or false' });
  }
  if (issues.length > 0) return { ok: false, issues };

  // Types never configured (custom externalIds types appear at any time) get Segment's defaults.
  const defaults = new Map<string, IdentifierRule>();
  const rule = (type: string): IdentifierRule => {
    const r = rules.get(type) ?? defaults.get(type);
    if (r !== undefined) return r;
    const d: IdentifierRule = { limit: type === 'user_id' ? 1 : 5, windowMs: null, priority: BUILT_IN_PRIORITY[type] ?? Number.POSITIVE_INFINITY, enabled: true, traitKey: null, blocked: spaceBlocked };
    defaults.set(type, d);
    return d;
  };
  return {
    ok: true,
    rules: {
      rule,
      compareTypes(a, b) {
        if (a === b) return 0;
        const pa = rule(a).priority;
        const pb = rule(b).priority;
        if (pa !== pb) return pa < pb ? -1 : 1;
        return a < b ? -1 : 1;
      },
      isBlocked(type, value) {
        const blocked = rule(type).blocked;
        for (let i = 0; i < blocked.length; i++) if (blocked[i]!(value)) return true;
        return false;
      },
      traitKeys,
      mergeProtection: config.mergeProtection !== false,
      maxMerges,
      maxIdentifiers,
    },
  };
}

/** Segment's defaults: user_id 1 ever, everything else 5 ever; user_id, email, then alphabetical; the suggested blocked values; merge protection on. */
export const DEFAULT_IDENTITY_RULES: IdentityRules = (() => {
  const r = identityRules();
  invariant(r.ok, 'the default identity rules are valid');
  return r.rules;
})();
