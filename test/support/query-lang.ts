/** Test helpers for the query-language front end: a readable AST dump for golden tests, and fast-check arbitraries of definitions and junk. */
import fc from 'fast-check';
import type {
  Aggregate,
  ComparatorArg,
  ComparatorName,
  Condition,
  Definition,
  DefinitionTarget,
  Duration,
  EventStream,
  EventValueRef,
  Filter,
  Literal,
  Reducer,
  ReducerArgument,
  Scalar,
  TimeUnit,
} from '../../engine/lang/ast.ts';
import type { Diagnostic } from '../../engine/lang/diagnostic.ts';
import { parseDefinition, type ParseOptions } from '../../engine/lang/index.ts';
import { LineMap } from '../../engine/lang/line-map.ts';
import { lowerDefinition } from '../../engine/lang/lower.ts';
import { parseSyntax } from '../../engine/lang/parser.ts';
import { RuleContext, type AstRule, type SyntaxRule } from '../../engine/lang/rule-context.ts';
import { makeDuration } from '../../engine/lang/units.ts';

// ---------------------------------------------------------------------------------------------
// Readable dumps

/** The AST as an indented tree, one node per line, spans left out: the golden form of parse results. */
export function dumpAst(definition: Definition): string {
  const lines: string[] = [];
  const out = (depth: number, text: string): void => {
    lines.push(`${'  '.repeat(depth)}${text}`);
  };
  const literal = (l: Literal) => (l.type === 'string' ? `'${l.value}'` : l.type === 'timestamp' ? `${l.value} (${l.ms})` : String(l.value));
  const scalar = (s: Scalar | ComparatorArg, d: number): void => {
    switch (s.kind) {
      case 'literal':
        return out(d, `literal ${s.type} ${literal(s)}`);
      case 'duration':
        return out(d, `duration ${s.amount} ${s.unit} (${s.ms} ms)`);
      case 'trait':
        return out(d, `trait ${s.path.map((p) => `[${p}]`).join('')}`);
      case 'property':
      case 'context':
        return out(d, `${s.kind}${s.parent ? ' parent' : ''} ${s.path.map((p) => `[${p}]`).join('')}`);
      case 'aggregate': {
        const r = s.reducer;
        const extra = r.kind === 'min' || r.kind === 'max' ? ` as ${r.as}` : r.kind === 'mode' ? ` as ${r.as} min ${r.minFrequency}` : r.kind === 'unique' ? (r.count ? ' count' : ' list') : '';
        out(d, `aggregate ${r.kind}${extra}`);
        stream(s.stream, d + 1);
        if (r.kind !== 'count') scalar(r.of, d + 1);
        return;
      }
    }
  };
  const stream = (s: EventStream, d: number) => {
    out(d, `${s.source} '${s.name}'`);
    for (const f of s.filters) {
      switch (f.kind) {
        case 'where':
          out(d + 1, 'where');
          condition(f.condition, d + 2);
          break;
        case 'sources':
          out(d + 1, `sources exclude ${f.exclude.map((x) => `'${x}'`).join(' ')}`);
          break;
        case 'within':
          out(d + 1, `within${f.parent ? ' parent' : ''} ${f.duration.amount} ${f.duration.unit}`);
          break;
        case 'between':
          out(d + 1, `between ${f.from.amount} ${f.from.unit} and ${f.to.amount} ${f.to.unit}`);
          break;
        case 'expires_after':
          out(d + 1, `expires_after ${f.duration.amount} ${f.duration.unit}`);
          break;
      }
    }
  };
  const condition = (c: Condition, d: number): void => {
    switch (c.kind) {
      case 'and':
      case 'or':
        out(d, c.kind);
        for (const o of c.operands) condition(o, d + 1);
        return;
      case 'not':
        out(d, 'not');
        return condition(c.operand, d + 1);
      case 'quantified':
        out(d, c.quantifier);
        return condition(c.operand, d + 1);
      case 'comparison':
        out(d, c.comparator);
        scalar(c.subject, d + 1);
        for (const a of c.args) scalar(a, d + 1);
        return;
    }
  };
  out(0, `${definition.kind} ${definition.target}`);
  if (definition.kind === 'audience') condition(definition.condition, 1);
  else scalar(definition.value, 1);
  return lines.join('\n');
}

/** `3:14 not_boolean` for each diagnostic: compact enough to assert positions and codes together. */
export function located(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`);
}

export const USERS_AUDIENCE: ParseOptions = { kind: 'audience', target: 'USERS' };
export const ACCOUNTS_AUDIENCE: ParseOptions = { kind: 'audience', target: 'ACCOUNTS' };
export const USERS_TRAIT: ParseOptions = { kind: 'trait', target: 'USERS' };

/** Parses and returns `line:column code` of every diagnostic. */
export function diagnose(source: string, options: ParseOptions = USERS_AUDIENCE): string[] {
  return located(parseDefinition(source, options).diagnostics);
}

/** Runs one syntax rule alone on `source` (which must be free of syntax errors): `line:column code message`. */
export function runSyntaxRule(rule: SyntaxRule, source: string, options: ParseOptions = USERS_AUDIENCE): string[] {
  const syntax = parseSyntax(source);
  if (syntax.diagnostics.length > 0) throw new Error(`syntax errors in a rule test: ${JSON.stringify(syntax.diagnostics)}`);
  const context = new RuleContext(options, new LineMap(source));
  rule(syntax.root, context);
  return context.diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`);
}

/** Runs one AST rule alone on the AST of `source` (which must lower): `line:column code message`. */
export function runAstRule(rule: AstRule, source: string, options: ParseOptions = USERS_AUDIENCE): string[] {
  const syntax = parseSyntax(source);
  const definition = lowerDefinition(syntax.root, options.kind, options.target);
  if (syntax.diagnostics.length > 0 || definition === undefined) throw new Error(`'${source}' does not lower to an AST`);
  const context = new RuleContext(options, new LineMap(source));
  rule(definition, context);
  return context.diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`);
}

// ---------------------------------------------------------------------------------------------
// Arbitraries of valid definitions (every construct of the language that passes all rules)

/** Text with quotes, backslashes, dots, control characters and non-ASCII. */
const weirdText = fc.oneof(
  fc.constantFrom('a', 'Order Completed', "it's", 'a\\b', 'x.y', 'tab\there', 'line\nbreak', 'ünï', '"q"', '\\.', '\\', '😀'),
  fc.string({ minLength: 1, maxLength: 6 }),
);
const nonEmptyText = weirdText.filter((s) => s.length > 0);
const pathArb = fc.array(nonEmptyText, { minLength: 1, maxLength: 3 });

const numberArb = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e25, max: 1e25 }).map((n) => (Object.is(n, -0) ? 0 : n)),
  fc.constantFrom(0.5, 2.5, 1e-7, 1e21, -3.25),
);
const TIMESTAMPS: [string, number][] = [
  ['2022-10-17', Date.UTC(2022, 9, 17)],
  ['2023-12-07T18:50:00Z', Date.UTC(2023, 11, 7, 18, 50)],
  ['2022-10-17T00:00:00', Date.UTC(2022, 9, 17)],
  ['2024-02-29T12:30:15.250+02:00', Date.UTC(2024, 1, 29, 10, 30, 15, 250)],
  ['2021-01-01T00:00Z', Date.UTC(2021, 0, 1)],
];
const timestampArb: fc.Arbitrary<Literal> = fc
  .constantFrom(...TIMESTAMPS)
  .map(([value, ms]) => ({ kind: 'literal', type: 'timestamp', value, ms }));
const stringArb: fc.Arbitrary<Literal> = weirdText.map((value) => ({ kind: 'literal', type: 'string', value }));
const numberLiteral: fc.Arbitrary<Literal> = numberArb.map((value) => ({ kind: 'literal', type: 'number', value }));
const booleanArb: fc.Arbitrary<Literal> = fc.boolean().map((value) => ({ kind: 'literal', type: 'boolean', value }));
const nullArb: fc.Arbitrary<Literal> = fc.constant({ kind: 'literal', type: 'null', value: null });

const unitArb = fc.constantFrom<TimeUnit>('second', 'minute', 'hour', 'day');
const durationArb = (min = 1): fc.Arbitrary<Duration> =>
  fc.tuple(fc.integer({ min, max: 400 }), unitArb).map(([n, u]) => makeDuration(n, u));

// Plain objects, so deep equality with parsed ASTs (which have Object.prototype) holds.
const PLAIN = { noNullPrototype: true } as const;

/** Where an expression sits: at the top, inside a where() of a top-level stream, or of a nested (funnel) stream; in which kind of definition. */
interface Scope {
  readonly inWhere: boolean;
  readonly nested: boolean;
  readonly depth: number;
  /** an ACCOUNTS definition: a top-level reducer may read a user trait (`mode(trait('email'), 1)`). */
  readonly accounts: boolean;
}

function refArb(scope: Scope): fc.Arbitrary<Scalar & ComparatorArg> {
  const trait = pathArb.map((path) => ({ kind: 'trait' as const, path }));
  if (!scope.inWhere) return trait;
  return fc.oneof(trait, eventValueArb(scope.nested));
}

function eventValueArb(parentAllowed: boolean): fc.Arbitrary<EventValueRef> {
  return fc.record({
    kind: fc.constantFrom('property' as const, 'context' as const),
    path: pathArb,
    parent: parentAllowed ? fc.boolean() : fc.constant(false),
  }, PLAIN);
}

function argsFor(comparator: ComparatorName, scope: Scope): fc.Arbitrary<ComparatorArg[]> {
  const ref = refArb(scope);
  const one = (a: fc.Arbitrary<ComparatorArg>) => a.map((x) => [x]);
  switch (comparator) {
    case 'absent':
    case 'exists':
      return fc.constant([]);
    case 'within_last':
    case 'before_last':
    case 'after_next':
    case 'within_next':
      return one(durationArb(0));
    case 'before_date':
    case 'after_date':
      return one(fc.oneof(timestampArb, fc.constantFrom(...TIMESTAMPS).map(([value]) => ({ kind: 'literal' as const, type: 'string' as const, value })), ref));
    case 'equals':
    case 'differs':
      return one(fc.oneof(stringArb, numberLiteral, booleanArb, nullArb, timestampArb, ref));
    case 'one_of':
    case 'none_of':
      return fc.array(fc.oneof(stringArb, numberLiteral, booleanArb, nullArb, ref), { minLength: 1, maxLength: 3 });
    case 'contains':
    case 'omits':
    case 'starts_with':
    case 'ends_with':
      return fc.array(fc.oneof(stringArb, numberLiteral, ref), { minLength: 1, maxLength: 3 });
    case 'greater_than':
    case 'at_least':
    case 'less_than':
    case 'at_most':
      return one(fc.oneof(numberLiteral, stringArb, timestampArb, ref));
  }
}

const COMPARATOR_LIST: ComparatorName[] = [
  'equals', 'differs', 'absent', 'exists', 'greater_than', 'at_least', 'less_than', 'at_most', 'contains', 'omits',
  'starts_with', 'ends_with', 'one_of', 'none_of', 'before_date', 'after_date', 'within_last', 'before_last', 'after_next', 'within_next',
];

function filterArb(scope: Scope): fc.Arbitrary<Filter> {
  const options: fc.Arbitrary<Filter>[] = [
    fc.array(nonEmptyText, { minLength: 1, maxLength: 3 }).map((exclude) => ({ kind: 'sources' as const, exclude })),
    fc.tuple(durationArb(), scope.nested ? fc.boolean() : fc.constant(false)).map(([duration, parent]) => ({ kind: 'within' as const, duration, parent })),
    fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 1, max: 50 }), unitArb).map(([a, b, unit]) => ({
      kind: 'between' as const,
      from: makeDuration(a, unit),
      to: makeDuration(a + b, unit),
    })),
    // a session window lasts from 30 minutes to 90 days
    fc.oneof(fc.integer({ min: 30, max: 600 }).map((m) => makeDuration(m, 'minute')), fc.integer({ min: 1, max: 90 }).map((d) => makeDuration(d, 'day'))).map((duration) => ({ kind: 'expires_after' as const, duration })),
  ];
  if (scope.depth < 2) {
    // The where() of a stream: inside it, property() reads that stream's event; parent: is allowed when the stream is nested.
    options.push(conditionArb({ ...scope, inWhere: true, depth: scope.depth + 1 }).map((condition) => ({ kind: 'where' as const, condition })));
  }
  return fc.oneof(...options);
}

/** A stream; `nested` when it sits inside another stream's where() (a funnel step). */
function streamArb(nested: boolean, depth: number, accounts: boolean): fc.Arbitrary<EventStream> {
  return fc.record({
    kind: fc.constant('stream' as const),
    source: fc.constant('event' as const),
    name: nonEmptyText,
    filters: fc.array(filterArb({ inWhere: false, nested, depth, accounts }), { maxLength: 2 }),
  }, PLAIN);
}

function reducerArb(countOnly: boolean, listAllowed: boolean, traitAllowed: boolean): fc.Arbitrary<Reducer> {
  if (countOnly) return fc.constant({ kind: 'count' });
  // ACCOUNTS: a reducer may read the trait of each event's user instead of a field of the event
  const of: fc.Arbitrary<ReducerArgument> = traitAllowed
    ? fc.oneof(eventValueArb(false), pathArb.map((path): ReducerArgument => ({ kind: 'trait', path })))
    : eventValueArb(false);
  return fc.oneof(
    fc.constant<Reducer>({ kind: 'count' }),
    fc.tuple(fc.constantFrom('sum' as const, 'avg' as const, 'first' as const, 'last' as const), of).map(([kind, o]): Reducer => ({ kind, of: o })),
    fc.tuple(fc.constantFrom('min' as const, 'max' as const), of, fc.constantFrom('number' as const, 'string' as const)).map(([kind, o, as]): Reducer => ({ kind, of: o, as })),
    fc.tuple(of, fc.constantFrom('number' as const, 'string' as const, 'array' as const), fc.integer({ min: 1, max: 9 })).map(([o, as, minFrequency]): Reducer => ({ kind: 'mode', of: o, as, minFrequency })),
    fc.tuple(of, listAllowed ? fc.boolean() : fc.constant(true)).map(([o, count]): Reducer => ({ kind: 'unique', of: o, count })),
  );
}

function aggregateArb(scope: Scope, listAllowed: boolean): fc.Arbitrary<Aggregate> {
  // An aggregate inside a where() is a funnel step: nested, and count() only.
  const nested = scope.inWhere;
  return fc.record({
    kind: fc.constant('aggregate' as const),
    stream: streamArb(nested, scope.depth, scope.accounts),
    reducer: reducerArb(nested, listAllowed, scope.accounts && !nested),
  }, PLAIN);
}

function subjectArb(scope: Scope): fc.Arbitrary<Scalar> {
  const options: fc.Arbitrary<Scalar>[] = [refArb(scope), fc.oneof(stringArb, numberLiteral)];
  if (scope.depth < 2) options.push(aggregateArb(scope, false));
  return fc.oneof(...options);
}

function comparisonArb(scope: Scope): fc.Arbitrary<Condition> {
  return fc
    .tuple(subjectArb(scope), fc.constantFrom(...COMPARATOR_LIST))
    .chain(([subject, comparator]) => argsFor(comparator, scope).map((args): Condition => ({ kind: 'comparison', subject, comparator, args })));
}

function conditionArb(scope: Scope, quantifiers = false): fc.Arbitrary<Condition> {
  const { condition } = fc.letrec<{ condition: Condition }>((tie) => ({
    condition: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      comparisonArb(scope),
      fc.array(tie('condition'), { minLength: 2, maxLength: 3 }).map((operands): Condition => ({ kind: 'and', operands })),
      fc.array(tie('condition'), { minLength: 2, maxLength: 3 }).map((operands): Condition => ({ kind: 'or', operands })),
      tie('condition').map((operand): Condition => ({ kind: 'not', operand })),
    ),
  }));
  if (!quantifiers) return condition;
  // ACCOUNTS: ANY/ALL at the top only (never nested in each other nor in where()).
  return fc.oneof(
    condition,
    fc.tuple(fc.constantFrom('any' as const, 'all' as const), condition).map(([quantifier, operand]): Condition => ({ kind: 'quantified', quantifier, operand })),
    fc.array(
      fc.tuple(fc.constantFrom('any' as const, 'all' as const), condition).map(([quantifier, operand]): Condition => ({ kind: 'quantified', quantifier, operand })),
      { minLength: 2, maxLength: 2 },
    ).map((operands): Condition => ({ kind: 'and', operands })),
  );
}

const top = (target: DefinitionTarget): Scope => ({ inWhere: false, nested: false, depth: 0, accounts: target === 'ACCOUNTS' });

/** Random definitions that pass every rule (≤ 50 comparisons, no entity(), properties only where allowed …). */
export const validDefinitionArb: fc.Arbitrary<Definition> = fc
  .oneof(
    fc.constantFrom<DefinitionTarget>('USERS', 'ACCOUNTS').chain((target) =>
      conditionArb(top(target), target === 'ACCOUNTS').map((condition): Definition => ({ kind: 'audience', target, condition })),
    ),
    fc.constantFrom<DefinitionTarget>('USERS', 'ACCOUNTS').chain((target) =>
      aggregateArb(top(target), true).map((value): Definition => ({ kind: 'trait', target, value })),
    ),
  )
  .filter((d) => countComparisons(d) <= 50);

function countComparisons(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countComparisons(v), 0);
  if (value === null || typeof value !== 'object') return 0;
  const own = (value as { kind?: unknown }).kind === 'comparison' ? 1 : 0;
  return own + Object.values(value).reduce((n: number, v) => n + countComparisons(v), 0);
}

// ---------------------------------------------------------------------------------------------
// Junk

const TOKENS = [
  "event('A')", "event('Order Completed')", 'entity(', 'trait(', "'x'", '"y"', 'property(', 'context(', 'literal(', 'parent:', 'exclude:',
  '.', '(', ')', '[', ']', '{', '}', ',', ':', 'AND', 'or', 'NOT', 'ANY', 'all', '=', '==', '!=', '>', '>=', '<', '<=',
  '1', '-2.5', '1e400', '7 days', '1 hour', '3 weeks', '2022-10-17', '2023-12-07T18:50:00Z', '2022-13-45', 'true', 'null',
  '.count()', '.where(', '.within(', '.between(', '.sources({exclude:', '.unique(', '.mode(', '.max(', 'as', 'string', 'array',
  '.equals(', '.one_of(', '.within_last(', '.foo(', 'bar', "'unterminated", '\\', '#', '\n', '@', "property(parent: 'p')",
];

/** Sequences of language-like tokens: reaches deep into the parser and rules, unlike uniform random text. */
export const tokenSoupArb: fc.Arbitrary<string> = fc
  .tuple(fc.array(fc.constantFrom(...TOKENS), { maxLength: 30 }), fc.constantFrom(' ', '', '\n'))
  .map(([tokens, sep]) => tokens.join(sep));

/** A printed valid definition with random edits: deletions, duplications and inserted tokens. */
export function mutatedArb(printed: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(printed, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 8 }), fc.constantFrom('', ...TOKENS)), { minLength: 1, maxLength: 3 }))
    .map(([text, edits]) => {
      let out = text;
      for (const [at, length, insert] of edits) {
        const i = out.length === 0 ? 0 : at % out.length;
        out = out.slice(0, i) + insert + out.slice(i + length);
      }
      return out;
    });
}

