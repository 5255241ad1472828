/**
 * The JSON form of a definition: the AST as plain JSON, without spans — kind-tagged objects exactly
 * as in `ast.ts`. A zod schema checks the shape (`invalid_json`, with the JSON path), then the same
 * AST rules as for the text form run; their diagnostics name the JSON path of the node.
 */
import { z } from 'zod';
import { parseIsoTimestamp } from '../event/iso-timestamp.ts';
import * as ast from './ast.ts';
import { checkDefinition, sortDiagnostics } from './check.ts';
import type { Diagnostic } from './diagnostic.ts';
import { isTimestampText } from './lexer.ts';
import type { ParseOptions, ParseResult } from './options.ts';
import { RuleContext } from './rule-context.ts';
import { UNIT_MS } from './units.ts';

// JSON deeper than this is refused before validation, which recurses (about 3 JSON levels per AST level).
const MAX_JSON_DEPTH = 600;

const literal = z.literal('literal');
const Literal = z.discriminatedUnion('type', [
  z.strictObject({ kind: literal, type: z.literal('string'), value: z.string() }),
  z.strictObject({ kind: literal, type: z.literal('number'), value: z.number() }),
  z.strictObject({ kind: literal, type: z.literal('boolean'), value: z.boolean() }),
  z.strictObject({ kind: literal, type: z.literal('null'), value: z.null() }),
  z
    .strictObject({ kind: literal, type: z.literal('timestamp'), value: z.string(), ms: z.number() })
    .refine((t) => isTimestampText(t.value) && parseIsoTimestamp(t.value) !== null, {
      message: 'a timestamp is an ISO-8601 date or date-time such as 2023-12-07T18:50:00Z',
      path: ['value'],
    })
    .refine((t) => parseIsoTimestamp(t.value) === null || parseIsoTimestamp(t.value) === t.ms, {
      message: 'ms must be the instant the timestamp denotes, in epoch milliseconds',
      path: ['ms'],
    }),
]);

const Duration = z
  .strictObject({
    kind: z.literal('duration'),
    amount: z.number(),
    unit: z.enum(['second', 'minute', 'hour', 'day']),
    ms: z.number(),
  })
  .refine((d) => d.ms === d.amount * UNIT_MS[d.unit], { message: 'ms must be amount × the unit in milliseconds', path: ['ms'] });

const path = z.array(z.string());
const TraitRef = z.strictObject({ kind: z.literal('trait'), path });
const PropertyRef = z.strictObject({ kind: z.literal('property'), path, parent: z.boolean() });
const ContextRef = z.strictObject({ kind: z.literal('context'), path, parent: z.boolean() });
// trait() as a reducer argument (the trait of each event's user) is for ACCOUNTS definitions: an AST rule says so.
const ReducerArgument = z.discriminatedUnion('kind', [PropertyRef, ContextRef, TraitRef]);

const Reducer = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('count') }),
  z.strictObject({ kind: z.enum(['sum', 'avg', 'first', 'last']), of: ReducerArgument }),
  z.strictObject({ kind: z.enum(['min', 'max']), of: ReducerArgument, as: z.enum(['number', 'string']) }),
  z.strictObject({
    kind: z.literal('mode'),
    of: ReducerArgument,
    as: z.enum(['number', 'string', 'array']),
    minFrequency: z.number(),
  }),
  z.strictObject({ kind: z.literal('unique'), of: ReducerArgument, count: z.boolean() }),
]);

// Condition → where → stream → aggregate → comparison → condition: the cycle is broken with z.lazy.
const Condition: z.ZodType<ast.Condition> = z.lazy(() =>
  z.discriminatedUnion('kind', [Comparison, And, Or, Not, Quantified]),
);

const Filter = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('where'), condition: Condition }),
  z.strictObject({ kind: z.literal('sources'), exclude: z.array(z.string()) }),
  z.strictObject({ kind: z.literal('within'), duration: Duration, parent: z.boolean() }),
  z.strictObject({ kind: z.literal('between'), from: Duration, to: Duration }),
  z.strictObject({ kind: z.literal('expires_after'), duration: Duration }),
]);

const EventStream = z.strictObject({
  kind: z.literal('stream'),
  source: z.enum(['event', 'entity']),
  name: z.string(),
  filters: z.array(Filter),
});

const Aggregate = z.strictObject({ kind: z.literal('aggregate'), stream: EventStream, reducer: Reducer });
const Scalar = z.discriminatedUnion('kind', [Literal, TraitRef, PropertyRef, ContextRef, Aggregate]);
const ComparatorArg = z.discriminatedUnion('kind', [Literal, TraitRef, PropertyRef, ContextRef, Duration]);

const Comparison = z.strictObject({
  kind: z.literal('comparison'),
  subject: Scalar,
  comparator: z.enum(ast.COMPARATORS),
  args: z.array(ComparatorArg),
});
const And = z.strictObject({ kind: z.literal('and'), operands: z.array(Condition).min(2) });
const Or = z.strictObject({ kind: z.literal('or'), operands: z.array(Condition).min(2) });
const Not = z.strictObject({ kind: z.literal('not'), operand: Condition });
const Quantified = z.strictObject({ kind: z.literal('quantified'), quantifier: z.enum(['any', 'all']), operand: Condition });

const Target = z.enum(['USERS', 'ACCOUNTS']);

/** The schema of the JSON form of a definition. */
export const DefinitionJson: z.ZodType<ast.Definition> = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('audience'), target: Target, condition: Condition }),
  z.strictObject({ kind: z.literal('trait'), target: Target, value: Aggregate }),
]);

export function parseDefinitionJson(json: unknown, options: ParseOptions): ParseResult {
  if (depthExceeds(json, MAX_JSON_DEPTH)) {
    return refuse([{ code: 'invalid_json', message: `the JSON is nested more than ${MAX_JSON_DEPTH} levels deep`, line: 1, column: 1 }]);
  }
  const parsed = DefinitionJson.safeParse(json);
  if (!parsed.success) {
    return refuse(
      parsed.error.issues.map((issue) => ({
        code: 'invalid_json' as const,
        message: `${issue.message} (at ${formatPath(issue.path)})`,
        line: 1,
        column: 1,
      })),
    );
  }
  const definition = parsed.data;
  const paths = new WeakMap<object, string>();
  recordPaths(definition, [], paths);
  const context = new RuleContext(options, undefined, paths);
  if (definition.kind !== options.kind) {
    context.diagnostics.push({
      code: definition.kind === 'audience' ? 'not_scalar' : 'not_boolean',
      message: `the JSON is ${definition.kind === 'audience' ? 'an audience' : 'a computed trait'} definition, but ${options.kind === 'audience' ? 'an audience' : 'a computed trait'} was expected (at kind)`,
      line: 1,
      column: 1,
    });
  }
  if (definition.target !== options.target) {
    context.diagnostics.push({
      code: 'invalid_json',
      message: `the target is ${definition.target}, but ${options.target} was expected (at target)`,
      line: 1,
      column: 1,
    });
  }
  checkDefinition(definition, context);
  const diagnostics = sortDiagnostics(context.diagnostics);
  return { definition: diagnostics.length === 0 ? definition : null, diagnostics };
}

/** The JSON form of a definition: the AST without spans (and without undefined fields). */
export function definitionToJson(definition: ast.Definition): unknown {
  return stripSpans(definition);
}

/** A copy of any AST value without its `span` fields; the way tests compare ASTs. */
export function stripSpans<T>(value: T): T {
  if (Array.isArray(value)) return value.map(stripSpans) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key !== 'span' && v !== undefined) out[key] = stripSpans(v);
  }
  return out as T;
}

function refuse(diagnostics: Diagnostic[]): ParseResult {
  return { definition: null, diagnostics: sortDiagnostics(diagnostics) };
}

/** `condition.operands[1].subject`. */
function formatPath(segments: readonly PropertyKey[]): string {
  if (segments.length === 0) return 'the top level';
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? String(s) : `.${String(s)}`;
  }
  return out;
}

function recordPaths(value: unknown, at: PropertyKey[], paths: WeakMap<object, string>): void {
  if (value === null || typeof value !== 'object') return;
  paths.set(value, formatPath(at));
  if (Array.isArray(value)) value.forEach((v, i) => recordPaths(v, [...at, i], paths));
  else for (const [key, v] of Object.entries(value)) recordPaths(v, [...at, key], paths);
}

/** Iterative, so neither deep nor cyclic input can overflow the stack. */
function depthExceeds(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}
