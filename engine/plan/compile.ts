/** Compiles a space's definitions (ASTs) into one Plan: shared aggregate nodes and evaluation closures in dependency order. */
import type { AggregateSpec, WindowSpec } from '../../operators/kernels/window-aggregate.ts';
import type {
  Aggregate,
  ComparatorArg,
  Condition,
  EventStream,
  Filter,
  Reducer,
  ReducerArgument,
  Scalar,
} from '../lang/ast.ts';
import { walkDefinition } from '../lang/ast-walk.ts';
import type { FlockEvent } from '../event/model.ts';
import { escapeKey } from '../event/safe-keys.ts';
import { compareValues, getPath, InstantArg, isTimeRelative, nextFlip } from '../eval/values.ts';
import { canonicalCondition, canonicalFilters, canonicalJson, fingerprint } from './canonical.ts';
import { compileInstances, InstanceCompileError, needsInstances, type InstanceProgram } from './compile-instances.ts';
import type {
  AggregateNode,
  CompiledDefinition,
  DefinitionInput,
  EvalContext,
  EventPredicate,
  Plan,
} from './plan.ts';

/** A definition the engine cannot run; the definition becomes `Failed` with this reason. */
export class CompileError extends Error {
  constructor(
    readonly code: 'unsupported' | 'invalid_window' | 'reference_cycle' | 'invalid_definition',
    message: string,
  ) {
    super(message);
    this.name = 'CompileError';
  }
}

export interface CompileOptions {
  /** distinct values kept per mode/unique state. */
  readonly distinctCap: number;
  /**
   * the event log's retention (ms; 0 = forever): a late event of any lateness inside it counts
   * exactly, so state is kept as long as an event the log can still deliver could make it count
   * (funnel children, sessions a late event may bridge); beyond it nothing is promised.
   */
  readonly retentionMs: number;
}

export const DEFAULT_COMPILE_OPTIONS: CompileOptions = { distinctCap: 10_000, retentionMs: 0 };

/** The kernels' lateness bound: how far behind the watermark an event can still arrive (Infinity: unbounded). */
function retentionOf(options: CompileOptions): number {
  return options.retentionMs > 0 ? options.retentionMs : Number.POSITIVE_INFINITY;
}

export interface CompileResult {
  readonly plan: Plan;
  /** definitions that could not be compiled, by id. */
  readonly failures: ReadonlyMap<string, CompileError>;
}

type Getter = (ctx: EvalContext) => unknown;
type Test = (ctx: EvalContext) => boolean;

/** Definition fingerprint: its meaning, kind, target and key. */
export function definitionFingerprint(input: Pick<DefinitionInput, 'kind' | 'target' | 'key' | 'definition'>): string {
  const d = input.definition;
  const body = d.kind === 'audience' ? canonicalCondition(d.condition) : canonicalJson(d.value);
  return fingerprint(`${input.kind}|${input.target}|${input.key}|${body}`);
}

export function compilePlan(inputs: readonly DefinitionInput[], options: CompileOptions = DEFAULT_COMPILE_OPTIONS): CompileResult {
  const failures = new Map<string, CompileError>();
  const order = orderByReferences(inputs, failures);
  const definitionKeys = new Set(inputs.map((d) => d.key));
  const aggregates: AggregateNode[] = [];
  const byCanonical = new Map<string, number>();
  const definitions: CompiledDefinition[] = [];
  const definitionByKey = new Map<string, number>();

  const register = (input: DefinitionInput, compiled: ReturnType<typeof compileDefinition>, hidden: boolean, quantifiers: readonly number[]) => {
    // Only register the definition's new nodes once it compiled entirely.
    for (const node of compiled.nodes) {
      if (!byCanonical.has(node.canonical)) {
        byCanonical.set(node.canonical, aggregates.length);
        aggregates.push({ ...node, index: aggregates.length, dependents: [], polarity: [], accountDependents: [] });
      }
    }
    const aggIndices = compiled.nodes.map((n) => byCanonical.get(n.canonical)!);
    const def: CompiledDefinition = {
      index: definitions.length,
      input,
      fp: definitionFingerprint(input),
      collection: input.target === 'ACCOUNTS' ? 'accounts' : 'users',
      hidden,
      evaluate: compiled.evaluate(aggIndices),
      aggregates: [...new Set(aggIndices)],
      traitKeys: [...new Set(compiled.traitKeys)],
      references: [...new Set(compiled.references.map((k) => definitionByKey.get(k)!))],
      quantifiers,
      dependents: [],
      accountDependents: [],
      polarity: compiled.polarity(aggIndices),
    };
    definitions.push(def);
    if (!hidden) definitionByKey.set(input.key, def.index);
    return def.index;
  };

  for (const input of order) {
    try {
      if (input.target === 'ACCOUNTS') {
        // Each user-level condition under ANY/ALL becomes a hidden user-level definition; the account
        // definition counts its users that satisfy it.
        const hiddenInputs = quantifiedConditions(input);
        const hiddenCompiled = hiddenInputs.map((h) => compileDefinition(h.input, 'users'));
        const hiddenIndex = new Map(hiddenInputs.map((h, k) => [h.canonical, definitions.length + k]));
        const compiled = compileDefinition(input, 'accounts', hiddenIndex);
        const indices = hiddenInputs.map((h, k) => register(h.input, hiddenCompiled[k]!, true, []));
        register(input, compiled, false, indices);
      } else register(input, compileDefinition(input, 'users'), false, []);
    } catch (err) {
      if (!(err instanceof CompileError)) throw err;
      failures.set(input.id, err);
    }
  }

  for (const def of definitions) {
    for (const a of def.aggregates) {
      if (def.collection === 'accounts') {
        // An account reads the node merged over its users: a user's change marks their accounts.
        aggregates[a]!.accountDependents.push(def.index);
        continue;
      }
      aggregates[a]!.dependents.push(def.index);
      aggregates[a]!.polarity.push(def.polarity.get(a) ?? 0);
    }
    for (const r of def.references) definitions[r]!.dependents.push(def.index);
    for (const q of def.quantifiers) definitions[q]!.accountDependents.push(def.index);
  }
  const aggregatesByEvent = new Map<string, number[]>();
  for (const node of aggregates) {
    const names = node.program === null ? [node.event] : [...new Set(node.program.streams.map((s) => s.event))];
    for (const name of names) {
      const list = aggregatesByEvent.get(name) ?? [];
      list.push(node.index);
      aggregatesByEvent.set(name, list);
    }
  }
  const definitionsByTrait = new Map<string, number[]>();
  for (const def of definitions) {
    for (const k of def.traitKeys) {
      const list = definitionsByTrait.get(k) ?? [];
      list.push(def.index);
      definitionsByTrait.set(k, list);
    }
  }
  return {
    plan: {
      aggregates,
      definitions,
      aggregatesByEvent,
      aggregateByFp: new Map(aggregates.map((a) => [a.fp, a.index])),
      definitionsByTrait,
      definitionByKey,
      definitionByFp: new Map(definitions.map((d) => [d.fp, d.index])),
    },
    failures,
  };

  // -------------------------------------------------------------------------------------------

  function compileDefinition(input: DefinitionInput, collection: 'users' | 'accounts', hiddenIndex: ReadonlyMap<string, number> = new Map()) {
    const nodes: Array<Omit<AggregateNode, 'index' | 'dependents' | 'polarity' | 'accountDependents'>> = [];
    const traitKeys: string[] = [];
    const references: string[] = [];
    // Closures are built against node positions; the final aggregate indices are bound afterwards.
    const slots: Array<{ index: number }> = [];

    const aggregateGetter = (a: Aggregate, keep = Number.POSITIVE_INFINITY): { get: Getter; touched: Test } => {
      const built = aggregateNode(a, keep, traitGetter);
      const since = input.since ?? Number.NEGATIVE_INFINITY;
      const node = input.since === undefined ? built : { ...built, since, canonical: `${built.canonical}|since:${since}`, fp: fingerprint(`${built.canonical}|since:${since}`) };
      nodes.push(node);
      const slot = { index: -1 };
      slots.push(slot);
      return { get: (ctx) => ctx.aggregate(slot.index), touched: (ctx) => ctx.touched(slot.index) };
    };

    const traitGetter = (path: readonly string[]): Getter => {
      const key = path[0]!;
      if (definitionKeys.has(key) && key !== input.key) {
        if (!definitionByKey.has(key)) {
          throw new CompileError('invalid_definition', `trait('${key}') refers to a definition that failed to compile`);
        }
        const target = definitionByKey.get(key)!;
        const targetCollection = definitions[target]!.collection;
        if (targetCollection !== collection) {
          throw new CompileError(
            'invalid_definition',
            collection === 'accounts'
              ? `trait('${key}') is a user-level definition: read it inside ANY(...) or ALL(...)`
              : `trait('${key}') is an account-level definition, which a user-level definition cannot read`,
          );
        }
        references.push(key);
        const rest = path.slice(1);
        return rest.length === 0 ? (ctx) => ctx.output(target) : (ctx) => getPath(ctx.output(target), rest);
      }
      // (the runtime reports changed traits by their stored spelling)
      traitKeys.push(escapeKey(key));
      return (ctx) => ctx.trait(path);
    };

    const scalarGetter = (s: Scalar): Getter => {
      switch (s.kind) {
        case 'literal': {
          const v = literalValue(s);
          return () => v;
        }
        case 'trait':
          return traitGetter(s.path);
        case 'aggregate':
          return aggregateGetter(s).get;
        case 'property':
        case 'context':
          throw new CompileError('invalid_definition', `${s.kind}() is only valid inside where() or a reducer`);
      }
    };

    const argGetter = (a: ComparatorArg): Getter => {
      if (a.kind === 'duration') {
        const ms = a.ms;
        return () => ms;
      }
      return scalarGetter(a);
    };

    const condition = (c: Condition): Test => {
      switch (c.kind) {
        case 'and': {
          const parts = c.operands.map(condition);
          return (ctx) => {
            for (const p of parts) if (!p(ctx)) return false;
            return true;
          };
        }
        case 'or': {
          const parts = c.operands.map(condition);
          return (ctx) => {
            for (const p of parts) if (p(ctx)) return true;
            return false;
          };
        }
        case 'not': {
          const inner = condition(c.operand);
          return (ctx) => !inner(ctx);
        }
        case 'quantified': {
          if (collection !== 'accounts') throw new CompileError('invalid_definition', 'ANY/ALL are only valid in account-level definitions');
          const { condition: operand, mode } = quantifiedForm(c);
          const h = hiddenIndex.get(canonicalCondition(operand));
          if (h === undefined) throw new CompileError('invalid_definition', 'ANY/ALL inside ANY/ALL is not valid');
          return (ctx) => ctx.quantified(h, mode);
        }
        case 'comparison': {
          const subject = c.subject.kind === 'aggregate' ? aggregateGetter(c.subject, countRetention(c)).get : scalarGetter(c.subject);
          // A comparison on an aggregate may flip as the window slides: report when.
          const aggSlot = c.subject.kind === 'aggregate' ? slots[slots.length - 1]! : null;
          const args = c.args.map(argGetter);
          const comparator = c.comparator;
          const timeRelative = isTimeRelative(comparator);
          const constant = c.args.every((a) => a.kind === 'literal' || a.kind === 'duration');
          if (constant && !timeRelative) {
            // The common case: literal arguments, resolved once; the count test is built once too.
            const resolved = args.map((g) => g(null as unknown as EvalContext));
            const test = (x: unknown) => compareValues(comparator, x, resolved, 0);
            return (ctx) => {
              const v = subject(ctx);
              if (aggSlot !== null) ctx.aggregateFlip(aggSlot.index, test, resolved);
              return test(v);
            };
          }
          return (ctx) => {
            const v = subject(ctx);
            const resolved = args.map((g) => g(ctx));
            const now = ctx.now;
            if (aggSlot !== null) ctx.aggregateFlip(aggSlot.index, (x) => compareValues(comparator, x, resolved, now), resolved);
            if (timeRelative) ctx.flipAt(nextFlip(comparator, v, resolved, now));
            return compareValues(comparator, v, resolved, now);
          };
        }
      }
    };

    const d = input.definition;
    checkReducerTraits(input);
    let build: (aggIndices: readonly number[]) => (ctx: EvalContext) => unknown;
    if (d.kind === 'audience') {
      if (input.kind !== 'audience') throw new CompileError('invalid_definition', 'a computed trait must end in a scalar');
      const test = condition(d.condition);
      build = (aggIndices) => {
        bind(aggIndices);
        return test;
      };
    } else {
      if (input.kind !== 'trait') throw new CompileError('invalid_definition', 'an audience must end in a boolean');
      const { get, touched } = aggregateGetter(d.value);
      const slot = slots[slots.length - 1]!;
      build = (aggIndices) => {
        bind(aggIndices);
        return (ctx) => {
          // A trait's value is an output: every change of its aggregate matters.
          ctx.aggregateFlip(slot.index, null, []);
          // (no value — null: an empty window's avg, min, max, first, last, mode or list, an overflowed sum — is no trait)
          if (!touched(ctx)) return undefined;
          const v = get(ctx);
          return v === null ? undefined : v;
        };
      };
    }
    function bind(aggIndices: readonly number[]) {
      slots.forEach((slot, i) => (slot.index = aggIndices[i]!));
    }
    // Polarity of the audience in each count it reads (slots are numbered in the order the closures
    // above were built, which is a depth-first walk of the same AST).
    const signs: number[] = new Array(slots.length).fill(Number.NaN);
    if (d.kind === 'audience') {
      let next = 0;
      const walk = (c: Condition, sign: number): void => {
        switch (c.kind) {
          case 'and':
          case 'or':
            for (const o of c.operands) walk(o, sign);
            return;
          case 'not':
            walk(c.operand, -sign);
            return;
          case 'quantified':
            walk(c.operand, 0);
            return;
          case 'comparison':
            if (c.subject.kind === 'aggregate') signs[next++] = sign * countPolarity(c);
        }
      };
      walk(d.condition, 1);
    }
    const polarity = (aggIndices: readonly number[]): Map<number, number> => {
      const out = new Map<number, number>();
      aggIndices.forEach((a, i) => {
        const p = Number.isNaN(signs[i]!) ? 0 : signs[i]!;
        const prev = out.get(a);
        out.set(a, prev === undefined || prev === p ? p : 0);
      });
      return out;
    };
    return { nodes, traitKeys, references, evaluate: build, polarity };
  }

  function aggregateNode(a: Aggregate, keep: number, trait: (path: readonly string[]) => Getter): Omit<AggregateNode, 'index' | 'dependents' | 'polarity' | 'accountDependents'> {
    const stream = a.stream;
    if (stream.source === 'entity') throw new CompileError('unsupported', 'entity() (Linked Audiences) is not supported');
    const window = windowOf(stream.filters.filter((f) => !(f.kind === 'where')));
    const reducer = a.reducer;
    if (needsInstances(stream)) {
      if (window.kind === 'session') throw new CompileError('unsupported', 'expires_after() with funnels or references is not supported');
      const canonical = `${JSON.stringify(stream.name)}|${canonicalFilters(stream.filters)}|${canonicalJson(reducer)}`;
      let program: InstanceProgram;
      try {
        program = compileInstances(a, {
          distinctCap: options.distinctCap,
          retention: retentionOf(options),
          eventCondition,
          rootWindow: window.kind === 'range' ? [window.from, window.to] : [0, Number.POSITIVE_INFINITY],
          trait,
        });
      } catch (err) {
        if (err instanceof InstanceCompileError) throw new CompileError('unsupported', err.message);
        throw err;
      }
      return {
        canonical,
        fp: fingerprint(canonical),
        event: stream.name,
        since: Number.NEGATIVE_INFINITY,
        filter: null,
        value: null,
        asArray: false,
        spec: { window, reducer: reducerSpec(reducer), cap: options.distinctCap },
        program,
      };
    }
    // A bounded count is a different node (its state differs); bounds are bucketed so audiences with
    // small thresholds still share one.
    const bounded = Number.isFinite(keep) && reducer.kind === 'count' && window.kind === 'range' && window.from === 0;
    const canonical = `${JSON.stringify(stream.name)}|${canonicalFilters(stream.filters)}|${canonicalJson(reducer)}${bounded ? `|keep:${keep}` : ''}`;
    const spec: AggregateSpec = bounded
      ? { window, reducer: reducerSpec(reducer), cap: options.distinctCap, keep }
      : { window, reducer: reducerSpec(reducer), cap: options.distinctCap };
    return {
      canonical,
      fp: fingerprint(canonical),
      event: stream.name,
      since: Number.NEGATIVE_INFINITY,
      filter: streamFilter(stream),
      value: reducer.kind === 'count' ? null : reducerValue(reducer.of),
      asArray: reducer.kind === 'mode' && reducer.as === 'array',
      spec,
      program: null,
    };
  }

  /** `mode(trait('k'), …)` reads the custom trait k of each event's user: k cannot name another definition. */
  function checkReducerTraits(input: DefinitionInput): void {
    walkDefinition(input.definition, (node) => {
      if (node.kind !== 'aggregate' || node.reducer.kind === 'count' || node.reducer.of.kind !== 'trait') return;
      const key = node.reducer.of.path[0]!;
      if (definitionKeys.has(key) && key !== input.key) {
        throw new CompileError(
          'invalid_definition',
          `${node.reducer.kind}(trait('${key}')) reads a custom trait of each event's user, but '${key}' is an audience or computed trait`,
        );
      }
    });
  }

  function windowOf(filters: readonly Filter[]): WindowSpec {
    const windows = filters.filter((f) => f.kind === 'within' || f.kind === 'between' || f.kind === 'expires_after');
    if (windows.length > 1) throw new CompileError('invalid_window', 'a stream takes at most one window (within, between or expires_after)');
    const w = windows[0];
    if (w === undefined) return { kind: 'all' };
    switch (w.kind) {
      case 'within':
        if (w.parent) throw new CompileError('unsupported', 'within(parent: …) funnels are not supported yet');
        return { kind: 'range', from: 0, to: w.duration.ms };
      case 'between':
        if (!(w.from.ms < w.to.ms)) throw new CompileError('invalid_window', 'between(A, B) needs A < B');
        return { kind: 'range', from: w.from.ms, to: w.to.ms };
      case 'expires_after':
        if (w.duration.ms <= 0) throw new CompileError('invalid_window', 'expires_after needs a positive duration');
        return { kind: 'session', gap: w.duration.ms, retention: retentionOf(options) };
      default:
        throw new CompileError('invalid_window', 'unknown window');
    }
  }
}

/**
 * How many of the newest events a comparison on a windowed count needs. `count() <op> k` only tells
 * counts up to k apart, and the oldest events expire first, so keeping the newest k + 1 events (the
 * count saturating there) decides it exactly while the state of a heavy user stays bounded. Bucketed
 * (4, 16, 64, unbounded) so that audiences with different small thresholds share one node.
 */
function countRetention(c: Extract<Condition, { kind: 'comparison' }>): number {
  const a = c.subject as Aggregate;
  if (a.reducer.kind !== 'count' || needsInstances(a.stream)) return Number.POSITIVE_INFINITY;
  const comparable = ['equals', 'differs', 'greater_than', 'at_least', 'less_than', 'at_most', 'one_of', 'none_of'];
  if (!comparable.includes(c.comparator) || c.args.length === 0) return Number.POSITIVE_INFINITY;
  let need = 1;
  for (const arg of c.args) {
    if (arg.kind !== 'literal' || arg.type !== 'number') return Number.POSITIVE_INFINITY;
    need = Math.max(need, Math.ceil(arg.value) + 1);
  }
  for (const bucket of [4, 16, 64]) if (need <= bucket) return bucket;
  return Number.POSITIVE_INFINITY;
}

/**
 * How a comparison's truth moves when its count grows: `1` (≥, >), `-1` (≤, <, = 0), `0` otherwise.
 * Only counts over range or all-time windows grow monotonically with events.
 */
function countPolarity(c: Extract<Condition, { kind: 'comparison' }>): number {
  const a = c.subject as Aggregate;
  if (a.reducer.kind !== 'count' || needsInstances(a.stream)) return 0;
  if (a.stream.filters.some((f) => f.kind === 'expires_after' || (f.kind === 'within' && f.parent))) return 0;
  const arg = c.args[0];
  const numeric = arg !== undefined && arg.kind === 'literal' && arg.type === 'number';
  switch (c.comparator) {
    case 'at_least':
    case 'greater_than':
      return numeric ? 1 : 0;
    case 'at_most':
    case 'less_than':
      return numeric ? -1 : 0;
    case 'equals':
      return numeric && (arg as { value: number }).value === 0 ? -1 : 0;
    default:
      return 0;
  }
}

function reducerSpec(r: Reducer): AggregateSpec['reducer'] {
  switch (r.kind) {
    case 'count':
    case 'sum':
    case 'avg':
    case 'first':
    case 'last':
      return { kind: r.kind };
    case 'min':
    case 'max':
      return { kind: r.kind, as: r.as };
    case 'mode':
      return { kind: 'mode', minFrequency: r.minFrequency };
    case 'unique':
      return { kind: 'unique', count: r.count };
  }
}

function literalValue(l: Extract<Scalar, { kind: 'literal' }>): unknown {
  return l.type === 'timestamp' ? new InstantArg(l.ms) : l.value;
}

/**
 * What a reducer reads per event: a property or context value, or for `trait('t')` (account-level
 * "most frequent / first user trait") the trait of the profile applying the event — the runtime has
 * applied the event's own traits by then, so it is the trait as of that event. A later merge does
 * not rewrite it: the reading belongs to the profile as it was when it applied the event.
 */
function reducerValue(ref: ReducerArgument): NonNullable<AggregateNode['value']> {
  if (ref.kind !== 'trait') return eventValue(ref);
  const path = ref.path;
  return (_event, traits) => getPath(traits, path);
}

function eventValue(ref: { kind: 'property' | 'context'; path: readonly string[]; parent: boolean }): (e: FlockEvent) => unknown {
  if (ref.parent) throw new CompileError('unsupported', 'property(parent: …) references are not supported yet');
  const path = ref.path;
  return ref.kind === 'property' ? (e) => getPath(e.properties, path) : (e) => getPath(e.context, path);
}

/** The stream's non-window filters as one predicate; null when there are none. */
function streamFilter(stream: EventStream): EventPredicate | null {
  const tests: EventPredicate[] = [];
  for (const f of stream.filters) {
    if (f.kind === 'where') tests.push(eventCondition(f.condition));
    else if (f.kind === 'sources') {
      const excluded = new Set(f.exclude);
      tests.push((e) => e.sourceId === null || !excluded.has(e.sourceId));
    }
  }
  if (tests.length === 0) return null;
  if (tests.length === 1) return tests[0]!;
  return (e) => {
    for (const t of tests) if (!t(e)) return false;
    return true;
  };
}

/**
 * A `where` condition over one event. Time-relative comparators inside `where` are evaluated at the
 * event's own timestamp, so an event's membership in a stream never changes with time.
 */
function eventCondition(c: Condition): EventPredicate {
  switch (c.kind) {
    case 'and': {
      const parts = c.operands.map(eventCondition);
      return (e) => parts.every((p) => p(e));
    }
    case 'or': {
      const parts = c.operands.map(eventCondition);
      return (e) => parts.some((p) => p(e));
    }
    case 'not': {
      const inner = eventCondition(c.operand);
      return (e) => !inner(e);
    }
    case 'quantified':
      throw new CompileError('invalid_definition', 'ANY/ALL are not valid inside where()');
    case 'comparison': {
      const subject = eventScalar(c.subject);
      const args = c.args.map((a) => (a.kind === 'duration' ? () => a.ms : eventScalar(a)));
      const comparator = c.comparator;
      return (e) =>
        compareValues(
          comparator,
          subject(e),
          args.map((g) => g(e)),
          e.timestamp,
        );
    }
  }
}

function eventScalar(s: Scalar): (e: FlockEvent) => unknown {
  switch (s.kind) {
    case 'literal': {
      const v = literalValue(s);
      return () => v;
    }
    case 'property':
    case 'context':
      return eventValue(s);
    case 'trait':
      throw new CompileError('unsupported', 'trait() inside where() (dynamic references) is not supported yet');
    case 'aggregate':
      throw new CompileError('unsupported', 'nested events inside where() (funnels) are not supported yet');
  }
}

/**
 * How an account reads a quantified user-level condition: `ANY x` — at least one user satisfies x;
 * `ALL x` — every user does (and there is at least one); `ALL NOT x` — none does (also true for an
 * account without users).
 */
export function quantifiedForm(q: Extract<Condition, { kind: 'quantified' }>): { condition: Condition; mode: 'any' | 'all' | 'none' } {
  if (q.quantifier === 'all' && q.operand.kind === 'not') return { condition: q.operand.operand, mode: 'none' };
  return { condition: q.operand, mode: q.quantifier };
}

/** The hidden user-level definitions of an account definition: one per distinct quantified condition. */
function quantifiedConditions(input: DefinitionInput): Array<{ canonical: string; input: DefinitionInput }> {
  const out = new Map<string, DefinitionInput>();
  const walk = (c: Condition): void => {
    if (c.kind === 'and' || c.kind === 'or') c.operands.forEach(walk);
    else if (c.kind === 'not') walk(c.operand);
    else if (c.kind === 'quantified') {
      const { condition } = quantifiedForm(c);
      const canonical = canonicalCondition(condition);
      if (!out.has(canonical)) {
        const n = out.size;
        out.set(canonical, {
          id: `${input.id}~u${n}`,
          key: `${input.key}~u${n}`,
          kind: 'audience',
          target: 'USERS',
          version: input.version,
          definition: { kind: 'audience', target: 'USERS', condition },
          ...(input.since === undefined ? {} : { since: input.since }),
        });
      }
    }
  };
  if (input.definition.kind === 'audience') walk(input.definition.condition);
  return [...out].map(([canonical, hidden]) => ({ canonical, input: hidden }));
}

/**
 * Orders definitions so every definition follows the ones it references through `trait('<key>')`;
 * definitions on a reference cycle fail.
 */
function orderByReferences(inputs: readonly DefinitionInput[], failures: Map<string, CompileError>): DefinitionInput[] {
  const byKey = new Map(inputs.map((d) => [d.key, d]));
  const state = new Map<DefinitionInput, 'visiting' | 'done'>();
  const out: DefinitionInput[] = [];
  const visit = (d: DefinitionInput, stack: DefinitionInput[]): void => {
    const s = state.get(d);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = stack.slice(stack.indexOf(d));
      const names = [...cycle, d].map((x) => x.key).join(' → ');
      for (const x of cycle) failures.set(x.id, new CompileError('reference_cycle', `definitions reference each other in a cycle: ${names}`));
      return;
    }
    state.set(d, 'visiting');
    for (const key of traitKeysOf(d)) {
      const ref = byKey.get(key);
      if (ref !== undefined && ref !== d) visit(ref, [...stack, d]);
      if (ref === d) failures.set(d.id, new CompileError('reference_cycle', `${d.key} references itself`));
    }
    state.set(d, 'done');
    out.push(d);
  };
  for (const d of inputs) visit(d, []);
  return out.filter((d) => !failures.has(d.id));
}

/** First segments of every `trait('…')` in a definition. */
export function traitKeysOf(input: Pick<DefinitionInput, 'definition'>): string[] {
  const keys: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      const n = node as { kind?: string; path?: readonly string[] };
      if (n.kind === 'trait' && n.path !== undefined && n.path.length > 0) keys.push(n.path[0]!);
      for (const [k, v] of Object.entries(node)) if (k !== 'span') walk(v);
    }
  };
  walk(input.definition);
  return keys;
}
