/**
 * Explanations: why a profile is in or out of an audience (or has a trait's value) at an instant —
 * the value of each sub-condition and the events behind the last flip.
 *
 * It does not re-implement the semantics: each comparison of the definition becomes a definition of
 * its own (`~c<i>`: the comparison; `~v<i>`: its subject when that is an aggregate, as a computed
 * trait), compiled with the definition and what it reads into one plan, and a fresh `Runtime` replays
 * the profile's events — each at the instant the engine applied it, merges where they happened — up
 * to the instant. Every sub-condition's value over time is then that definition's change stream, as
 * exact as the engine's own (windows, funnels, late events, counting `since`).
 */
import type { Aggregate, Comparison, Condition } from '../lang/ast.ts';
import { printCondition, printScalar, quote } from '../lang/printer.ts';
import { printDuration } from '../lang/units.ts';
import { getPath } from '../eval/values.ts';
import type { FlockEvent } from '../event/model.ts';
import { compilePlan, type CompileOptions } from '../plan/compile.ts';
import type { AggregateNode, DefinitionInput } from '../plan/plan.ts';
import type { Change, ChangeCause } from '../runtime/change.ts';
import { Runtime } from '../runtime/runtime.ts';
import { aggregateValue, createAggregate } from '../../operators/kernels/window-aggregate.ts';

/** One event of the profile (or of a profile merged into it), with the instant the engine applied it. */
export interface ExplainEvent {
  readonly profileId: string;
  readonly seq: number;
  readonly applied: number;
  readonly event: FlockEvent;
}

/** A merge on the profile's way: `from` absorbed into `into` at `at`, right before the event at `seq`. */
export interface ExplainMerge {
  readonly from: string;
  readonly into: string;
  readonly at: number;
  readonly seq: number;
}

export interface ExplainInput {
  readonly space: string;
  readonly profileId: string;
  readonly at: number;
  /** the definition version to explain, as the engine computes it (its `since` included) … */
  readonly target: DefinitionInput;
  /** … and every definition it reads, transitively. */
  readonly references: readonly DefinitionInput[];
  /** the events of the profile and of the profiles merged into it by `at`, applied by `at`. */
  readonly events: readonly ExplainEvent[];
  readonly merges: readonly ExplainMerge[];
  readonly compile?: CompileOptions;
}

/** A sub-condition and its value at the instant. */
export type ConditionExplanation =
  | { readonly kind: 'and' | 'or'; readonly result: boolean; readonly operands: readonly ConditionExplanation[] }
  | { readonly kind: 'not'; readonly result: boolean; readonly operand: ConditionExplanation }
  | {
      readonly kind: 'comparison';
      readonly result: boolean;
      /** the comparison as written (canonical text). */
      readonly text: string;
      /** what is compared: the aggregate or trait … */
      readonly subject: string;
      /** … and its value at the instant (a count, a sum, a trait's value; null when it has none). */
      readonly value: unknown;
      readonly comparator: string;
      readonly args: readonly string[];
      /** a short reading, e.g. `Order Completed within 30 days: count 3 ≥ 1 ✓`. */
      readonly summary: string;
    };

/** The last change of the definition at or before the instant. */
export interface LastChange {
  readonly at: number;
  readonly kind: Change['kind'];
  readonly value?: unknown;
  readonly cause?: ChangeCause;
}

export interface Explanation {
  readonly at: number;
  /** whether the profile existed at the instant (had an event by then); before, it was in nothing and had no value (the tree is then not its). */
  readonly known: boolean;
  /** audiences: whether the profile is a member; traits: the value (undefined: none). */
  readonly value: unknown;
  /** audiences: the condition tree with each part's value; traits: the aggregate. */
  readonly condition: ConditionExplanation;
  /** the whole tree in one line (`;` joins AND, `OR` joins OR). */
  readonly summary: string;
  readonly lastChange?: LastChange;
  /**
   * The events behind the last change: the event that caused it, and for a change no event caused
   * (a window edge, a date), the events whose window it was — those entering or leaving a window of
   * a flipped comparison at that instant, and the writes of a flipped comparison's trait.
   */
  readonly events: readonly ExplainEvent[];
}

/** A definition that cannot be explained (account-level ones: they read every user's events). */
export class ExplainError extends Error {
  constructor(
    readonly code: 'unsupported',
    message: string,
  ) {
    super(message);
    this.name = 'ExplainError';
  }
}

interface Part {
  readonly comparison: Comparison;
  readonly test: string;
  readonly value: string | undefined;
}

export function explain(input: ExplainInput): Explanation {
  const { space, target, at } = input;
  if (target.target === 'ACCOUNTS') throw new ExplainError('unsupported', 'explanations of account-level definitions are not supported: they read the events of every user of the account');
  // One definition per comparison (and per aggregate it compares), keyed so they cannot clash with real keys.
  const parts: Part[] = [];
  const extra: DefinitionInput[] = [];
  const since = target.since === undefined ? {} : { since: target.since };
  const derived = (suffix: string, kind: 'audience' | 'trait', definition: DefinitionInput['definition']): string => {
    const key = `${target.key}~${suffix}`;
    extra.push({ id: `${target.id}~${suffix}`, key, kind, target: 'USERS', version: target.version, definition, ...since });
    return key;
  };
  const collect = (c: Condition): void => {
    if (c.kind === 'and' || c.kind === 'or') c.operands.forEach(collect);
    else if (c.kind === 'not' || c.kind === 'quantified') collect(c.operand);
    else {
      const i = parts.length;
      const test = derived(`c${i}`, 'audience', { kind: 'audience', target: 'USERS', condition: c });
      const value = c.subject.kind === 'aggregate' ? derived(`v${i}`, 'trait', { kind: 'trait', target: 'USERS', value: c.subject }) : undefined;
      parts.push({ comparison: c, test, value });
    }
  };
  const d = target.definition;
  if (d.kind === 'audience') collect(d.condition);
  else derived('v0', 'trait', d);
  const inputs = [target, ...input.references.filter((r) => r.id !== target.id), ...extra];
  const { plan, failures } = compilePlan(inputs, input.compile);
  const failure = failures.get(target.id);
  if (failure !== undefined) throw failure;

  // Replay the profile's events as the engine applied them.
  const changes = new Map<string, Change[]>();
  const runtime = new Runtime({
    plans: new Map([[space, plan]]),
    onChange: (c) => {
      const key = c.kind === 'trait' ? c.traitKey : c.audienceKey;
      let list = changes.get(key);
      if (list === undefined) changes.set(key, (list = []));
      list.push(c);
    },
  });
  const events = [...input.events].sort((a, b) => a.applied - b.applied || a.seq - b.seq);
  const mergesBySeq = new Map<number, ExplainMerge[]>();
  for (const m of input.merges) (mergesBySeq.get(m.seq) ?? mergesBySeq.set(m.seq, []).get(m.seq)!).push(m);
  for (const e of events) {
    runtime.advanceTo(e.applied);
    for (const m of mergesBySeq.get(e.seq) ?? []) runtime.merge(space, m.from, m.into, e.event.messageId);
    runtime.apply(e.event, e.profileId);
  }
  // close every instant up to `at` (timers included), and no later one
  runtime.advanceTo(at + 1);
  const profileId = input.profileId;
  const mine = (key: string) => (changes.get(key) ?? []).filter((c) => c.profileId === profileId);
  const valueAt = (key: string, kind: 'audience' | 'trait', t: number): unknown => {
    let v: unknown = kind === 'audience' ? false : undefined;
    for (const c of mine(key)) {
      if (c.at > t) break;
      v = c.kind === 'trait' ? c.value : c.kind === 'enter';
    }
    return v;
  };
  const traits = runtime.profile(space, profileId)?.traits ?? {};
  const emptyValue = (key: string): unknown => {
    const d = plan.definitionByKey.get(key);
    const node = d === undefined ? undefined : plan.aggregates[plan.definitions[d]!.aggregates[0]!];
    // (what the runtime reads for a node without state, funnels included)
    return node === undefined ? undefined : aggregateValue(node.spec, createAggregate(node.spec, 0));
  };
  const last = mine(target.key).filter((c) => c.at <= at).at(-1);

  const comparisonAt = (p: Part, t: number): boolean => valueAt(p.test, 'audience', t) === true;
  const subjectValue = (p: Part): unknown => {
    const s = p.comparison.subject;
    // (a computed trait has no value until a matching event; the comparison reads the empty aggregate's)
    if (p.value !== undefined) return valueAt(p.value, 'trait', at) ?? emptyValue(p.value) ?? null;
    if (s.kind === 'literal') return s.value;
    if (s.kind === 'trait') {
      const [head, ...rest] = s.path;
      const ref = inputs.find((x) => x.key === head);
      if (ref === undefined) return getPath(traits, s.path) ?? null;
      const out = valueAt(ref.key, ref.kind, at);
      return (rest.length === 0 ? out : getPath(out, rest)) ?? null;
    }
    return null;
  };
  let next = 0;
  const tree = (c: Condition): ConditionExplanation => {
    switch (c.kind) {
      case 'and':
      case 'or': {
        const operands = c.operands.map(tree);
        return { kind: c.kind, result: c.kind === 'and' ? operands.every((o) => o.result) : operands.some((o) => o.result), operands };
      }
      case 'not': {
        const operand = tree(c.operand);
        return { kind: 'not', result: !operand.result, operand };
      }
      case 'quantified':
        throw new ExplainError('unsupported', 'ANY/ALL belong to account-level definitions');
      case 'comparison': {
        const p = parts[next++]!;
        const value = subjectValue(p);
        const result = comparisonAt(p, at);
        const args = c.args.map((a) => (a.kind === 'duration' ? printDuration(a) : printScalar(a)));
        return { kind: 'comparison', result, text: printCondition(c), subject: printScalar(c.subject), value, comparator: c.comparator, args, summary: summarize(c, value, args, result) };
      }
    }
  };
  let condition: ConditionExplanation;
  let value: unknown;
  if (d.kind === 'audience') {
    condition = tree(d.condition);
    value = valueAt(target.key, 'audience', at);
  } else {
    value = valueAt(target.key, 'trait', at);
    const subject = printScalar(d.value);
    condition = { kind: 'comparison', result: value !== undefined, text: subject, subject, value: value ?? null, comparator: 'value', args: [], summary: `${describe(d.value)}: ${reading(d.value, value ?? null)}` };
  }
  const known = events.some((e) => e.applied <= at);
  return {
    at,
    known,
    value,
    condition,
    summary: known ? summaryOf(condition) : `no event of the profile by then: it was in no audience and had no computed trait`,
    ...(last === undefined ? {} : { lastChange: lastChangeOf(last) }),
    events: last === undefined ? [] : flipEvents(last),
  };

  /** The events behind change `change` (see `Explanation.events`). */
  function flipEvents(change: Change): ExplainEvent[] {
    const t = change.at;
    const out = new Map<number, ExplainEvent>();
    const cause = change.cause;
    if (cause !== undefined && (cause.type === 'event' || cause.type === 'merge')) {
      for (const e of events) if (e.event.messageId === cause.messageId && e.applied <= t) out.set(e.seq, e);
    }
    for (const p of parts) {
      if (comparisonAt(p, t - 1) === comparisonAt(p, t)) continue;
      const s = p.comparison.subject;
      if (s.kind === 'trait') {
        const write = lastTraitWrite(events, s.path[0]!, t);
        if (write !== undefined) out.set(write.seq, write);
        continue;
      }
      const d = p.value === undefined ? undefined : plan.definitionByKey.get(p.value);
      const node = d === undefined ? undefined : plan.aggregates[plan.definitions[d]!.aggregates[0]!];
      if (node === undefined || node.program !== null || node.spec.window.kind !== 'range') continue;
      for (const e of windowEdges(node, events, t)) out.set(e.seq, e);
    }
    return [...out.values()].sort((a, b) => a.event.timestamp - b.event.timestamp || a.seq - b.seq);
  }
}

/** The events of a windowed node's stream entering (ts + from) or leaving (ts + to) its window at `t`. */
function windowEdges(node: AggregateNode, events: readonly ExplainEvent[], t: number): ExplainEvent[] {
  const window = node.spec.window;
  if (window.kind !== 'range') return [];
  return events.filter((e) => {
    const ts = e.event.timestamp;
    if (e.event.event !== node.event || ts < node.since || (node.filter !== null && !node.filter(e.event))) return false;
    return ts + window.from === t || ts + window.to === t;
  });
}

/** The write of custom trait `key` in force at `t` (identify traits or context.traits; newest timestamp wins). */
function lastTraitWrite(events: readonly ExplainEvent[], key: string, t: number): ExplainEvent | undefined {
  let write: ExplainEvent | undefined;
  for (const e of events) {
    if (e.applied > t) continue;
    const context = (e.event.context as { traits?: unknown } | null)?.traits;
    const writes =
      (e.event.type === 'identify' && e.event.traits !== null && key in e.event.traits) ||
      (context !== null && typeof context === 'object' && !Array.isArray(context) && key in (context as object));
    if (writes && (write === undefined || e.event.timestamp >= write.event.timestamp)) write = e;
  }
  return write;
}

function lastChangeOf(c: Change): LastChange {
  return {
    at: c.at,
    kind: c.kind,
    ...(c.kind === 'trait' && c.value !== undefined ? { value: c.value } : {}),
    ...(c.cause === undefined ? {} : { cause: c.cause }),
  };
}

const SYMBOLS: Readonly<Record<string, string>> = { equals: '=', differs: '≠', greater_than: '>', at_least: '≥', less_than: '<', at_most: '≤' };

/** `Order Completed within 30 days where …` */
function describe(a: Aggregate): string {
  const parts = [a.stream.name];
  for (const f of a.stream.filters) {
    if (f.kind === 'within') parts.push(`within ${f.parent ? 'parent ' : ''}${printDuration(f.duration)}`);
    else if (f.kind === 'between') parts.push(`between ${printDuration(f.from)} and ${printDuration(f.to)} ago`);
    else if (f.kind === 'expires_after') parts.push(`session of ${printDuration(f.duration)}`);
    else if (f.kind === 'where') parts.push(`where ${printCondition(f.condition)}`);
    else parts.push(`excluding sources ${f.exclude.map(quote).join(', ')}`);
  }
  return parts.join(' ');
}

/** `count 3`, `sum of total 42.5` */
function reading(a: Aggregate, value: unknown): string {
  const r = a.reducer;
  const label = r.kind === 'count' ? 'count' : r.kind === 'unique' ? (r.count ? `unique ${printScalar(r.of)} count` : `unique ${printScalar(r.of)}`) : `${r.kind} of ${printScalar(r.of)}`;
  return `${label} ${JSON.stringify(value)}`;
}

function summarize(c: Comparison, value: unknown, args: readonly string[], result: boolean): string {
  const s = c.subject;
  const lead = s.kind === 'aggregate' ? `${describe(s)}: ${reading(s, value)}` : `${printScalar(s)} ${JSON.stringify(value)}`;
  const symbol = SYMBOLS[c.comparator];
  const test = symbol !== undefined && args.length === 1 ? `${symbol} ${args[0]}` : `${c.comparator}(${args.join(', ')})`;
  return `${lead} ${test} ${result ? '✓' : '✗'}`;
}

/** One line: `a ✓; NOT b ✗` (the mark after NOT is the NOT's own). */
export function summaryOf(c: ConditionExplanation): string {
  switch (c.kind) {
    case 'comparison':
      return c.summary;
    case 'and':
    case 'or':
      return c.operands.map((o) => (o.kind === 'and' || o.kind === 'or' ? `(${summaryOf(o)})` : summaryOf(o))).join(c.kind === 'and' ? '; ' : ' OR ');
    case 'not': {
      const o = c.operand;
      const inner = o.kind === 'comparison' ? o.summary.replace(/ [✓✗]$/, '') : `(${summaryOf(o)})`;
      return `NOT ${inner} ${c.result ? '✓' : '✗'}`;
    }
  }
}
