/**
 * `invalid_argument` for argument shapes the AST cannot even express: how many arguments a function
 * takes, what kind each is (`event()` takes a quoted name, `within()` a duration, `sum()` a
 * `property()`/`context()` (or `trait()`), a comparator values or references), where `parent:` and `as` may appear,
 * and `sources({exclude: …})`. Value ranges (durations, arities of comparators) are checked on the
 * AST by the other argument rules so the JSON form gets them too.
 */
import { resolveFunction, type ResolvedFunction } from '../functions.ts';
import type { Locatable, RuleContext, SyntaxRule } from '../rule-context.ts';
import type { ArgumentNode, CallNode, SyntaxNode } from '../syntax.ts';
import { walkSyntax } from '../syntax-walk.ts';
import { typeOf } from '../typing.ts';

/** Functions that accept `parent:` (spec §1.3 funnels). */
const PARENT_LABEL = new Set(['property', 'context', 'within']);
/** The types each reducer accepts after `as`. */
const AS_TYPES: Readonly<Record<string, readonly string[]>> = {
  min: ['number', 'string'],
  max: ['number', 'string'],
  mode: ['number', 'string', 'array'],
};

export const callArguments: SyntaxRule = (root, context) => {
  walkSyntax(root, (node) => {
    if (node.kind === 'call') {
      const fn = resolveFunction(node.name);
      if (fn !== undefined) checkCall(node, fn, context);
    } else if (node.kind === 'infix') {
      checkComparatorArgument(node.right, `${node.op}`, context);
    }
  });
};

function checkCall(call: CallNode, fn: ResolvedFunction, context: RuleContext): void {
  // An argument the parser could not read is already reported; counting it would only add noise.
  if (call.args.some((a) => a.value.kind === 'error')) return;
  const report = (message: string, at: Locatable, edge: 'start' | 'end' = 'start') =>
    context.report('invalid_argument', message, at, edge);
  const name = `${call.name}()`;

  for (const [index, arg] of call.args.entries()) {
    if (arg.label !== undefined && !(arg.label.text === 'parent' && PARENT_LABEL.has(fn.name))) {
      report(
        arg.label.text === 'parent'
          ? `parent: is not allowed in ${name}; only property(), context() and within() take it`
          : `${name} has no argument named ${arg.label.text}:`,
        arg.label,
      );
    }
    if (arg.as !== undefined) {
      const types = index === 0 ? AS_TYPES[fn.name] : undefined;
      if (types === undefined) report(`'as ${arg.as.text}' is not allowed in ${name}; only the first argument of min(), max() and mode() takes it`, arg.as);
      else if (!types.includes(arg.as.text.toLowerCase())) report(`${name} accepts as ${types.join(', as ')}, not as ${arg.as.text}`, arg.as);
    }
  }

  /** Checks the argument count; true when it is right. */
  const arity = (count: number, usage: string): boolean => {
    if (call.args.length === count) return true;
    const message = usage === '' ? `${name} takes ${plural(count)}` : `${name} takes ${plural(count)}: ${usage}`;
    if (call.args.length > count) report(message, call.args[count]!);
    else report(message, call, 'end');
    return false;
  };
  const expect = (arg: ArgumentNode, ok: (value: SyntaxNode) => boolean, message: string) => {
    if (typeOf(arg.value) !== 'unknown' && !ok(arg.value)) report(message, arg.value);
  };

  switch (fn.name) {
    case 'event':
    case 'entity':
    case 'trait':
    case 'property':
    case 'context': {
      const what = fn.name === 'event' ? 'the event name' : fn.name === 'entity' ? 'the entity slug' : 'a dotted path';
      const usage = `${what} as a quoted string, e.g. ${fn.name}(${EXAMPLES[fn.name]})`;
      if (arity(1, usage)) expect(call.args[0]!, isString, `${name} takes ${usage}`);
      return;
    }
    case 'literal':
      if (arity(1, 'a value, e.g. literal(100)')) {
        expect(call.args[0]!, (v) => v.kind === 'literal', `${name} takes a string, number, boolean, null or timestamp`);
      }
      return;
    case 'where':
      arity(1, 'a condition, e.g. where(property(\'price\') > 100)');
      return;
    case 'sources':
      if (arity(1, "{exclude: 'source-id', …}")) checkSources(call.args[0]!.value, report);
      return;
    case 'within':
    case 'expires_after':
      if (arity(1, `a duration, e.g. ${fn.name}(7 days)`)) {
        expect(call.args[0]!, isDuration, `${name} takes a duration such as 7 days`);
      }
      return;
    case 'between':
      if (arity(2, 'two durations, e.g. between(7 days, 30 days)')) {
        for (const arg of call.args) expect(arg, isDuration, `${name} takes durations such as 7 days`);
      }
      return;
    case 'count':
      arity(0, '');
      return;
    case 'mode':
      if (arity(2, "a property and a minimum frequency, e.g. mode(property('p'), 2)")) {
        expect(call.args[0]!, isReducerArgument, `${name} takes property('…') or context('…') (or, in ACCOUNTS definitions, trait('…')) first`);
        expect(call.args[1]!, isNumber, `${name} takes the minimum frequency, a number, second`);
      }
      return;
    default:
      if (fn.role === 'reducer') {
        if (arity(1, `property('…') or context('…'), e.g. ${fn.name}(property('total'))`)) {
          expect(call.args[0]!, isReducerArgument, `${name} takes property('…') or context('…') (or, in ACCOUNTS definitions, trait('…'))`);
        }
      } else if (fn.role === 'comparator') {
        for (const arg of call.args) checkComparatorArgument(arg.value, name, context);
      }
  }
}

const EXAMPLES: Readonly<Record<string, string>> = {
  event: "'Order Completed'",
  entity: "'accounts'",
  trait: "'total_spend'",
  property: "'price'",
  context: "'page.url'",
};

/** A comparator's argument: a value, a duration, an array of values, or trait()/property()/context()/literal(). */
function checkComparatorArgument(value: SyntaxNode, comparator: string, context: RuleContext): void {
  const problem = comparatorArgumentProblem(value, true);
  if (problem !== undefined) {
    context.report('invalid_argument', `${comparator} takes ${problem.expected}, not ${problem.found}`, problem.at);
  }
}

function comparatorArgumentProblem(
  value: SyntaxNode,
  arrayAllowed: boolean,
): { expected: string; found: string; at: Locatable } | undefined {
  const expected = "values or references (trait('…'), property('…'), context('…'))";
  const type = typeOf(value);
  if (type === 'unknown') return undefined;
  switch (value.kind) {
    case 'literal':
    case 'duration':
      return undefined;
    case 'group':
      return comparatorArgumentProblem(value.inner, arrayAllowed);
    case 'array':
      if (!arrayAllowed) return { expected, found: 'a nested array', at: value };
      for (const item of value.items) {
        const problem = comparatorArgumentProblem(item, false);
        if (problem !== undefined) return problem;
      }
      return undefined;
    case 'call': {
      const fn = resolveFunction(value.name);
      if (fn?.role === 'extractor') return undefined;
      return { expected, found: `${value.name}(…), an event stream`, at: value };
    }
    default:
      return { expected, found: describeFound(type), at: value };
  }
}

function describeFound(type: string): string {
  switch (type) {
    case 'aggregate':
    case 'list':
      return 'an aggregate (compare the aggregate with a value instead)';
    case 'boolean':
      return 'a condition';
    case 'stream':
      return 'an event stream';
    case 'object':
      return 'an object';
    default:
      return `a ${type}`;
  }
}

function checkSources(value: SyntaxNode, report: (message: string, at: Locatable) => void): void {
  if (typeOf(value) === 'unknown') return;
  if (value.kind !== 'object') {
    report("sources() takes {exclude: 'source-id', …}", value);
    return;
  }
  const excludes = value.entries.filter((e) => e.key.text === 'exclude');
  for (const entry of value.entries) {
    if (entry.key.text !== 'exclude') report(`sources() only supports exclude:, not ${entry.key.text}:`, entry.key);
  }
  if (excludes.length === 0) report("sources() takes {exclude: 'source-id', …}", value);
  if (excludes.length > 1) report('exclude: appears more than once', excludes[1]!.key);
  for (const entry of excludes) {
    for (const v of entry.values.flatMap((v) => (v.kind === 'array' ? v.items : [v]))) {
      if (typeOf(v) !== 'unknown' && !isString(v)) report('exclude: takes quoted source ids', v);
    }
  }
}

function isString(v: SyntaxNode): boolean {
  return v.kind === 'literal' && v.type === 'string';
}

function isNumber(v: SyntaxNode): boolean {
  return v.kind === 'literal' && v.type === 'number';
}

function isDuration(v: SyntaxNode): boolean {
  return v.kind === 'duration';
}

/** `property()`, `context()` or `trait()`; where `trait()` is allowed is the AST rule reducer-arguments' business. */
function isReducerArgument(v: SyntaxNode): boolean {
  if (v.kind !== 'call') return false;
  const name = resolveFunction(v.name)?.name;
  return name === 'property' || name === 'context' || name === 'trait';
}

function plural(n: number): string {
  return n === 0 ? 'no arguments' : n === 1 ? 'one argument' : `${n} arguments`;
}
