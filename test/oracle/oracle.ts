/**
 * The reference oracle: evaluates definitions directly from the full event history at an instant.
 * Deliberately naive — it rescans everything for every question — and independent of the engine's
 * kernels; it shares only the comparator value semantics (engine/eval/values.ts), which have their
 * own unit tests.
 */
import type { Aggregate, ComparatorArg, ComparatorName, Condition, EventStream, Scalar } from '../../engine/lang/ast.ts';
import type { FlockEvent } from '../../engine/event/model.ts';
import type { DefinitionInput } from '../../engine/plan/plan.ts';
import { compareValues, getPath, InstantArg, isPresent, toNumber, toText } from '../../engine/eval/values.ts';
import { exactMeanOf, exactSumOf } from '../../operators/kernels/exact-sum.ts';

/** One event as the oracle sees it: which profile, and the instant the engine learnt of it. */
export interface HistoryEntry {
  readonly event: FlockEvent;
  readonly profileId: string;
  /** max(ts, watermark when it arrived): the event is known from this instant on. */
  readonly arrival: number;
  /** arrival order, for ties. */
  readonly seq: number;
  /**
   * with identity resolution: the seqs of the entries that made up the profile applying this event
   * at that moment (itself included; a later merge does not reach back), whose traits `trait('t')`
   * as a reducer argument reads. Absent: every earlier entry of the same profile.
   */
  readonly traitsFrom?: ReadonlySet<number>;
}

export type Outputs = Map<string, unknown>;

export interface OracleOptions {
  /** values of at most this many distinct texts are kept by mode/unique (not modelled: tests stay below). */
  readonly sessionLatenessMs?: number;
}

/**
 * Every profile's outputs (definition key → membership boolean or trait value) at instant `t`:
 * users (by profile id) with the USERS definitions, and accounts (`group_id:<groupId>`, from group
 * calls) with the ACCOUNTS definitions.
 */
export function oracleAt(defs: readonly DefinitionInput[], history: readonly HistoryEntry[], t: number): Map<string, Outputs> {
  const byProfile = new Map<string, HistoryEntry[]>();
  for (const h of history) {
    if (h.arrival > t) continue;
    const list = byProfile.get(h.profileId) ?? [];
    list.push(h);
    byProfile.set(h.profileId, list);
  }
  return outputsAt(defs, byProfile, t);
}

/**
 * Every profile's outputs at `t` from the events known for each (by profile id, in arrival order):
 * users with the USERS definitions, and accounts (`group_id:<groupId>`, their users those who made
 * a group call for them) with the ACCOUNTS definitions over all their users' events.
 */
export function outputsAt(defs: readonly DefinitionInput[], byProfile: ReadonlyMap<string, readonly HistoryEntry[]>, t: number): Map<string, Outputs> {
  const members = new Map<string, Set<string>>();
  const groupCalls = new Map<string, HistoryEntry[]>();
  for (const [profileId, known] of byProfile) {
    for (const h of known) {
      const g = h.event.groupId;
      if (h.event.type !== 'group' || g === null || g === '') continue;
      const account = `group_id:${g}`;
      (members.get(account) ?? members.set(account, new Set()).get(account)!).add(profileId);
      (groupCalls.get(account) ?? groupCalls.set(account, []).get(account)!).push(h);
    }
  }
  const userDefs = defs.filter((d) => d.target === 'USERS');
  const accountDefs = defs.filter((d) => d.target === 'ACCOUNTS');
  const result = new Map<string, Outputs>();
  const userCtx = new Map<string, Ctx>();
  for (const [profileId, known] of byProfile) {
    const { outputs, ctx } = evaluate(userDefs, known, traitsOf(known), t, null);
    result.set(profileId, outputs);
    userCtx.set(profileId, ctx);
  }
  if (accountDefs.length > 0) {
    for (const [account, users] of members) {
      const known = [...users].flatMap((u) => byProfile.get(u) ?? []);
      const calls = groupCalls.get(account)!.sort((a, b) => a.seq - b.seq);
      result.set(account, evaluate(accountDefs, known, traitsOf(calls, true), t, [...users].map((u) => userCtx.get(u)!)).outputs);
    }
  }
  return result;
}

/** One profile's outputs at `t` from the events known for it (the naive recompute the benchmark measures against). */
export function evaluateProfile(defs: readonly DefinitionInput[], known: readonly HistoryEntry[], t: number): Outputs {
  return evaluate(defs, known, traitsOf(known), t, null).outputs;
}

function evaluate(
  defs: readonly DefinitionInput[],
  known: readonly HistoryEntry[],
  traits: Record<string, unknown>,
  t: number,
  users: readonly Ctx[] | null,
): { outputs: Outputs; ctx: Ctx } {
  const outputs: Outputs = new Map();
  const byKey = new Map(defs.map((d) => [d.key, d]));
  const visiting = new Set<string>();
  const outputOf = (key: string): unknown => {
    if (outputs.has(key)) return outputs.get(key);
    const def = byKey.get(key)!;
    if (visiting.has(key)) throw new Error(`oracle: cycle at ${key}`);
    visiting.add(key);
    let value: unknown;
    if (def.definition.kind === 'audience') value = condition(def.definition.condition, ctx);
    else {
      const a = def.definition.value;
      // (a computed trait exists from its first matching event; a reducer with no value gives none)
      value = performed(a.stream, ctx) ? (reduce(a, ctx) ?? undefined) : undefined;
    }
    visiting.delete(key);
    outputs.set(key, value);
    return value;
  };
  const ctx: Ctx = { known, t, traits, outputOf, byKey, users };
  for (const d of defs) outputOf(d.key);
  return { outputs, ctx };
}

interface Ctx {
  readonly known: readonly HistoryEntry[];
  readonly t: number;
  readonly traits: Record<string, unknown>;
  readonly outputOf: (key: string) => unknown;
  readonly byKey: ReadonlyMap<string, DefinitionInput>;
  /** for an account: its users' contexts (ANY/ALL evaluate user-level conditions in them). */
  readonly users: readonly Ctx[] | null;
}

/**
 * Custom traits: per top-level key, the write with the greatest timestamp (ties: the later arrival).
 * A user's come from identify traits and context.traits; an account's from its group calls' traits.
 */
function traitsOf(known: readonly HistoryEntry[], account = false): Record<string, unknown> {
  const best = new Map<string, { ts: number; seq: number; value: unknown }>();
  const consider = (traits: unknown, h: HistoryEntry, rank: number) => {
    if (traits === null || typeof traits !== 'object' || Array.isArray(traits)) return;
    for (const [k, v] of Object.entries(traits)) {
      const cur = best.get(k);
      const seq = h.seq * 2 + rank; // context.traits first, then identify traits, within one event
      if (cur === undefined || h.event.timestamp > cur.ts || (h.event.timestamp === cur.ts && seq > cur.seq)) {
        best.set(k, { ts: h.event.timestamp, seq, value: v });
      }
    }
  };
  for (const h of known) {
    if (account) {
      if (h.event.type === 'group') consider(h.event.traits, h, 1);
      continue;
    }
    consider((h.event.context as { traits?: unknown } | null)?.traits, h, 0);
    if (h.event.type === 'identify') consider(h.event.traits, h, 1);
  }
  const out: Record<string, unknown> = {};
  for (const [k, { value }] of best) if (value !== null && value !== undefined) out[k] = value;
  return out;
}

/**
 * `trait('t')` as a reducer argument: the custom traits of the user of entry `h` as they were when
 * `h` was applied — from that user's entries up to and including `h` in arrival order (so its own
 * context.traits / identify traits count, and a later write, even an older-stamped one, does not).
 * With identity resolution, "that user" is the profile as it was then (`traitsFrom`): a profile
 * merged in later does not lend its traits to events applied before the merge.
 */
function userTraitsAsOf(known: readonly HistoryEntry[], h: HistoryEntry): Record<string, unknown> {
  const from = h.traitsFrom;
  return traitsOf(known.filter((k) => (from === undefined ? k.profileId === h.profileId && k.seq <= h.seq : from.has(k.seq))));
}

function condition(c: Condition, ctx: Ctx): boolean {
  switch (c.kind) {
    case 'and':
      return c.operands.every((o) => condition(o, ctx));
    case 'or':
      return c.operands.some((o) => condition(o, ctx));
    case 'not':
      return !condition(c.operand, ctx);
    case 'quantified': {
      // ANY: some user; ALL: every user and at least one; ALL NOT: no user (also none at all).
      const users = ctx.users ?? [];
      if (c.quantifier === 'all' && c.operand.kind === 'not') {
        const inner = c.operand.operand;
        return users.every((u) => !condition(inner, u));
      }
      const results = users.map((u) => condition(c.operand, u));
      return c.quantifier === 'any' ? results.some((x) => x) : results.length > 0 && results.every((x) => x);
    }
    case 'comparison':
      return compareValues(
        c.comparator,
        scalar(c.subject, ctx),
        c.args.map((a) => arg(a, ctx)),
        ctx.t,
      );
  }
}

function arg(a: ComparatorArg, ctx: Ctx): unknown {
  return a.kind === 'duration' ? a.ms : scalar(a, ctx);
}

function scalar(s: Scalar, ctx: Ctx): unknown {
  switch (s.kind) {
    case 'literal':
      return s.type === 'timestamp' ? new InstantArg(s.ms) : s.value;
    case 'trait': {
      const key = s.path[0]!;
      const def = ctx.byKey.get(key);
      if (def !== undefined) {
        const v = ctx.outputOf(key);
        const out = def.kind === 'audience' ? v === true : v;
        return s.path.length === 1 ? out : getPath(out, s.path.slice(1));
      }
      return getPath(ctx.traits, s.path);
    }
    case 'aggregate':
      return reduce(s, ctx);
    default:
      throw new Error(`oracle: ${s.kind} outside where()`);
  }
}

/** The stream's matching events with ts ≤ t (ignoring the window when `windowed` is false). */
function streamEntries(stream: EventStream, ctx: Ctx, windowed: boolean): HistoryEntry[] {
  const t = ctx.t;
  const matching = ctx.known.filter((h) => {
    const e = h.event;
    if (e.event !== stream.name || e.timestamp > t) return false;
    for (const f of stream.filters) {
      if (f.kind === 'where' && where3(f.condition, h, [], ctx) !== TRUE) return false;
      if (f.kind === 'sources' && e.sourceId !== null && f.exclude.includes(e.sourceId)) return false;
    }
    return true;
  });
  matching.sort((a, b) => a.event.timestamp - b.event.timestamp || a.seq - b.seq);
  if (!windowed) return matching;
  const w = stream.filters.find((f) => f.kind === 'within' || f.kind === 'between' || f.kind === 'expires_after');
  if (w === undefined) return matching;
  if (w.kind === 'within') return matching.filter((h) => t - w.duration.ms < h.event.timestamp && h.event.timestamp <= t);
  if (w.kind === 'between') return matching.filter((h) => t - w.to.ms < h.event.timestamp && h.event.timestamp <= t - w.from.ms);
  if (w.kind === 'expires_after') {
    // The session containing the newest event, while it is still open.
    const gap = w.duration.ms;
    if (matching.length === 0) return [];
    const last = matching[matching.length - 1]!.event.timestamp;
    if (t >= last + gap) return [];
    let start = matching.length - 1;
    while (start > 0 && matching[start]!.event.timestamp - matching[start - 1]!.event.timestamp < gap) start--;
    return matching.slice(start);
  }
  return matching;
}

/**
 * Whether the profile performed the stream's event by ctx.t: a computed trait exists from then on.
 * For funnels and references that means the event matching the conditions that look only at the
 * event itself (not at later children or traits, which may change).
 */
function performed(stream: EventStream, ctx: Ctx): boolean {
  const statics = stream.filters.flatMap((f) => (f.kind === 'where' ? conjunctsOf(f.condition).filter(eventOnly) : []));
  return ctx.known.some((h) => {
    const e = h.event;
    if (e.event !== stream.name || e.timestamp > ctx.t) return false;
    for (const f of stream.filters) if (f.kind === 'sources' && e.sourceId !== null && f.exclude.includes(e.sourceId)) return false;
    return statics.every((c) => where3(c, h, [], ctx) === TRUE);
  });
}

function conjunctsOf(c: Condition): Condition[] {
  return c.kind === 'and' ? c.operands.flatMap(conjunctsOf) : [c];
}

function eventOnly(c: Condition): boolean {
  const text = JSON.stringify(c);
  return !text.includes('"kind":"aggregate"') && !text.includes('"kind":"trait"') && !text.includes('"parent":true');
}

// Three-valued logic for where() conditions: a nested event whose window (relative to its parent)
// is still open may yet be matched, so "did not" is unknown until the window closes.
const FALSE = 0;
const TRUE = 1;
const UNKNOWN = 2;
type Truth = 0 | 1 | 2;

/** A where() condition on entry `h`, whose funnel ancestors are `parents` (nearest first), at ctx.t. */
function where3(c: Condition, h: HistoryEntry, parents: readonly HistoryEntry[], ctx: Ctx): Truth {
  switch (c.kind) {
    case 'and': {
      const ts = c.operands.map((o) => where3(o, h, parents, ctx));
      return ts.includes(FALSE) ? FALSE : ts.includes(UNKNOWN) ? UNKNOWN : TRUE;
    }
    case 'or': {
      const ts = c.operands.map((o) => where3(o, h, parents, ctx));
      return ts.includes(TRUE) ? TRUE : ts.includes(UNKNOWN) ? UNKNOWN : FALSE;
    }
    case 'not': {
      const t = where3(c.operand, h, parents, ctx);
      return t === UNKNOWN ? UNKNOWN : t === TRUE ? FALSE : TRUE;
    }
    case 'quantified':
      throw new Error('oracle: ANY/ALL inside where');
    case 'comparison': {
      if (c.subject.kind === 'aggregate') return nested(c.subject, c.comparator, c.args.map((a) => eventValue(a, h, parents, ctx)), h, parents, ctx);
      const args = c.args.map((a) => eventValue(a, h, parents, ctx));
      return compareValues(c.comparator, eventValue(c.subject, h, parents, ctx), args, h.event.timestamp) ? TRUE : FALSE;
    }
  }
}

function eventValue(s: Scalar | ComparatorArg, h: HistoryEntry, parents: readonly HistoryEntry[], ctx: Ctx): unknown {
  switch (s.kind) {
    case 'duration':
      return s.ms;
    case 'literal':
      return s.type === 'timestamp' ? new InstantArg(s.ms) : s.value;
    case 'property':
    case 'context': {
      const of = s.parent ? parents[0] : h;
      if (of === undefined) throw new Error('oracle: parent: outside a nested event');
      return s.kind === 'property' ? getPath(of.event.properties, s.path) : getPath(of.event.context, s.path);
    }
    case 'trait':
      return scalar(s, ctx);
    case 'aggregate':
      throw new Error('oracle: nested event outside a comparison');
  }
}

/** `event(child).where(…).within(parent: T).count() <cmp> args` relative to parent entry `p`. */
function nested(child: Aggregate, comparator: ComparatorName, args: readonly unknown[], p: HistoryEntry, parents: readonly HistoryEntry[], ctx: Ctx): Truth {
  const w = child.stream.filters.find((f) => f.kind === 'within');
  const T = w !== undefined && w.kind === 'within' ? w.duration.ms : Number.POSITIVE_INFINITY;
  const start = p.event.timestamp;
  let sure = 0;
  let maybe = 0;
  for (const c of ctx.known) {
    const e = c.event;
    if (e.event !== child.stream.name || e.timestamp < start || e.timestamp > start + T || e.timestamp > ctx.t) continue;
    let t: Truth = TRUE;
    for (const f of child.stream.filters) {
      if (f.kind === 'sources' && e.sourceId !== null && f.exclude.includes(e.sourceId)) t = FALSE;
      if (f.kind === 'where' && t !== FALSE) {
        const x = where3(f.condition, c, [p, ...parents], ctx);
        if (x === FALSE) t = FALSE;
        else if (x === UNKNOWN) t = UNKNOWN;
      }
    }
    if (t === TRUE) sure++;
    else if (t === UNKNOWN) maybe++;
  }
  const open = ctx.t < start + T;
  // Every count the nested event may end with: [sure, sure + maybe], or unbounded while open.
  const counts: number[] = [];
  const limit = open ? Math.max(sure, ...args.map((a) => (typeof a === 'number' ? Math.ceil(a) + 1 : 0))) + 1 : sure + maybe;
  for (let n = sure; n <= limit; n++) counts.push(n);
  const truths = counts.map((n) => compareValues(comparator, n, args, 0));
  return truths.every((x) => x) ? TRUE : truths.every((x) => !x) ? FALSE : UNKNOWN;
}

function reduce(a: Aggregate, ctx: Ctx): unknown {
  const entries = streamEntries(a.stream, ctx, true);
  const r = a.reducer;
  if (r.kind === 'count') return entries.length;
  const of = r.of;
  const read = (h: HistoryEntry): unknown => {
    switch (of.kind) {
      case 'property':
        return getPath(h.event.properties, of.path);
      case 'context':
        return getPath(h.event.context, of.path);
      case 'trait':
        return getPath(userTraitsAsOf(ctx.known, h), of.path);
    }
  };
  const raw = entries.map(read).filter(isPresent);
  switch (r.kind) {
    // Empty windows: count, sum and unique count are 0; every other reducer has no value (null).
    // Non-finite numbers are not numeric; a sum beyond the double range has no value.
    case 'sum': {
      const sum = exactSumOf(raw.map(toNumber).filter(Number.isFinite));
      return Number.isFinite(sum) ? sum : null;
    }
    case 'avg': {
      const nums = raw.map(toNumber).filter(Number.isFinite);
      return nums.length === 0 ? null : exactMeanOf(nums);
    }
    case 'min':
    case 'max': {
      const vals: Array<number | string> =
        r.as === 'number' ? raw.map(toNumber).filter(Number.isFinite) : raw.map((v) => (typeof v === 'string' ? v : toText(v)));
      if (vals.length === 0) return null;
      let best = vals[0]!;
      for (const v of vals) if (r.kind === 'min' ? v < best : v > best) best = v;
      return best;
    }
    case 'first':
      return raw.length === 0 ? null : raw[0];
    case 'last':
      return raw.length === 0 ? null : raw[raw.length - 1];
    case 'mode':
    case 'unique': {
      const counts = new Map<string, number>();
      const asArray = r.kind === 'mode' && r.as === 'array';
      for (const v of raw) {
        const texts = Array.isArray(v) && !asArray ? v.filter(isPresent).map(toText) : [toText(v)];
        for (const k of texts) counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      if (r.kind === 'unique') return r.count ? counts.size : counts.size === 0 ? null : [...counts.keys()].sort();
      let best: string | null = null;
      let bestCount = 0;
      for (const [k, c] of counts) if (c > bestCount || (c === bestCount && best !== null && k < best)) [best, bestCount] = [k, c];
      return bestCount >= r.minFrequency ? best : null;
    }
  }
}
