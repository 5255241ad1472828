/**
 * Turns a syntax tree into the AST. Best effort: a part that is not well formed (which a rule has
 * already reported) is left out, so the AST rules can still look at the rest — the definition is
 * refused anyway whenever there is a diagnostic.
 */
import type {
  ComparatorArg,
  Condition,
  Definition,
  DefinitionTarget,
  Duration,
  EventStream,
  EventValueRef,
  Filter,
  Reducer,
  ReducerArgument,
  Scalar,
  Span,
} from './ast.ts';
import { isComparatorName, resolveFunction, SUGAR_OPERATORS } from './functions.ts';
import { splitPath } from './path.ts';
import type { ArgumentNode, CallNode, SyntaxNode } from './syntax.ts';

type Expression = Condition | Scalar | EventStream | Duration;

export function lowerDefinition(
  root: SyntaxNode,
  kind: 'audience' | 'trait',
  target: DefinitionTarget,
): Definition | undefined {
  if (kind === 'audience') {
    const condition = lowerCondition(root);
    return condition === undefined ? undefined : { kind, target, condition };
  }
  const value = lowerExpression(root);
  return value?.kind === 'aggregate' ? { kind, target, value } : undefined;
}

function lowerCondition(node: SyntaxNode): Condition | undefined {
  const e = lowerExpression(node);
  return e !== undefined && isCondition(e) ? e : undefined;
}

function lowerScalar(node: SyntaxNode): Scalar | undefined {
  const e = lowerExpression(node);
  return e !== undefined && isScalar(e) ? e : undefined;
}

function lowerExpression(node: SyntaxNode): Expression | undefined {
  switch (node.kind) {
    case 'group':
      return lowerExpression(node.inner);
    case 'junction': {
      const operands = node.operands.map(lowerCondition).filter((c) => c !== undefined);
      if (operands.length <= 1) return operands[0];
      return { kind: node.op, operands, span: node.span };
    }
    case 'prefix': {
      const operand = lowerCondition(node.operand);
      if (operand === undefined) return undefined;
      return node.op === 'not'
        ? { kind: 'not', operand, span: node.span }
        : { kind: 'quantified', quantifier: node.op, operand, span: node.span };
    }
    case 'infix': {
      const subject = lowerScalar(node.left);
      const args = lowerComparatorArgs([node.right]);
      if (subject === undefined || args === undefined) return undefined;
      return { kind: 'comparison', subject, comparator: SUGAR_OPERATORS[node.op], args, span: node.span };
    }
    case 'literal':
    case 'duration':
      return node;
    case 'call':
      return lowerHead(node);
    case 'chain': {
      let value = lowerExpression(node.head);
      for (const call of node.calls) {
        if (value === undefined) return undefined;
        value = applyCall(value, call, node.span);
      }
      return value;
    }
    case 'array':
    case 'object':
    case 'error':
      return undefined;
  }
}

/** `event('A')`, `trait('a.b')`, `property(parent: 'p')`, `literal(5)` … */
function lowerHead(call: CallNode): Expression | undefined {
  const fn = resolveFunction(call.name);
  switch (fn?.name) {
    case 'event':
    case 'entity': {
      const name = onlyString(call);
      return name === undefined ? undefined : { kind: 'stream', source: fn.name, name, filters: [], span: call.span };
    }
    case 'trait': {
      const path = onlyString(call);
      return path === undefined ? undefined : { kind: 'trait', path: splitPath(path), span: call.span };
    }
    case 'property':
    case 'context':
      return lowerEventValueRef(call);
    case 'literal': {
      const value = call.args.length === 1 ? call.args[0]!.value : undefined;
      return value?.kind === 'literal' ? { ...value, span: call.span } : undefined;
    }
    default:
      return undefined;
  }
}

/** The next call of a chain on what the chain has built so far. */
function applyCall(value: Expression, call: CallNode, chain: Span): Expression | undefined {
  const fn = resolveFunction(call.name);
  if (fn === undefined) return undefined;
  const span = { ...chain, end: call.span.end };
  if (value.kind === 'stream') {
    if (fn.role === 'filter') {
      const filter = lowerFilter(fn.name, call);
      return filter === undefined ? undefined : { ...value, filters: [...value.filters, filter], span };
    }
    if (fn.role === 'reducer') {
      const reducer = lowerReducer(fn.name, call);
      return reducer === undefined ? undefined : { kind: 'aggregate', stream: value, reducer, span };
    }
    return undefined;
  }
  if (value.kind === 'aggregate' && value.reducer.kind === 'unique' && !value.reducer.count) {
    if (fn.name !== 'count' || call.args.length > 0) return undefined;
    const reducerStart = value.reducer.span ?? call.span;
    const reducer: Reducer = { ...value.reducer, count: true, span: { ...reducerStart, end: call.span.end } };
    return { ...value, reducer, span };
  }
  if (fn.role === 'comparator' && isScalar(value)) {
    const args = lowerComparatorArgs(call.args.map((a) => a.value));
    if (args === undefined || call.args.some(hasExtras)) return undefined;
    if (!isComparatorName(fn.name)) return undefined;
    return { kind: 'comparison', subject: value, comparator: fn.name, args, span };
  }
  return undefined;
}

function lowerFilter(name: string, call: CallNode): Filter | undefined {
  const args = call.args;
  const span = call.span;
  switch (name) {
    case 'where': {
      const condition = args.length === 1 && !hasExtras(args[0]!) ? lowerCondition(args[0]!.value) : undefined;
      return condition === undefined ? undefined : { kind: 'where', condition, span };
    }
    case 'sources': {
      const object = args.length === 1 ? args[0]!.value : undefined;
      if (object?.kind !== 'object' || object.entries.length !== 1 || object.entries[0]!.key.text !== 'exclude') return undefined;
      const exclude: string[] = [];
      for (const v of object.entries[0]!.values.flatMap((v) => (v.kind === 'array' ? v.items : [v]))) {
        if (v.kind !== 'literal' || v.type !== 'string') return undefined;
        exclude.push(v.value);
      }
      return { kind: 'sources', exclude, span };
    }
    case 'within': {
      const arg = args.length === 1 ? args[0]! : undefined;
      if (arg?.value.kind !== 'duration' || arg.as !== undefined) return undefined;
      if (arg.label !== undefined && arg.label.text !== 'parent') return undefined;
      return { kind: 'within', duration: arg.value, parent: arg.label !== undefined, span };
    }
    case 'between': {
      const [from, to] = args;
      if (args.length !== 2 || from?.value.kind !== 'duration' || to?.value.kind !== 'duration') return undefined;
      if (hasExtras(from) || hasExtras(to)) return undefined;
      return { kind: 'between', from: from.value, to: to.value, span };
    }
    case 'expires_after': {
      const arg = args.length === 1 ? args[0]! : undefined;
      if (arg?.value.kind !== 'duration' || hasExtras(arg)) return undefined;
      return { kind: 'expires_after', duration: arg.value, span };
    }
    default:
      return undefined;
  }
}

function lowerReducer(name: string, call: CallNode): Reducer | undefined {
  const span = call.span;
  if (name === 'count') return call.args.length === 0 ? { kind: 'count', span } : undefined;
  const first = call.args[0];
  const of = first === undefined || first.label !== undefined ? undefined : lowerReducerArgument(first.value);
  if (of === undefined) return undefined;
  const as = first!.as?.text.toLowerCase();
  switch (name) {
    case 'sum':
    case 'avg':
    case 'first':
    case 'last':
    case 'unique':
      if (call.args.length !== 1 || as !== undefined) return undefined;
      return name === 'unique' ? { kind: name, of, count: false, span } : { kind: name, of, span };
    case 'min':
    case 'max':
      if (call.args.length !== 1 || (as !== undefined && as !== 'number' && as !== 'string')) return undefined;
      return { kind: name, of, as: as ?? 'number', span };
    case 'mode': {
      const frequency = call.args[1];
      if (call.args.length !== 2 || frequency === undefined || hasExtras(frequency)) return undefined;
      if (frequency.value.kind !== 'literal' || frequency.value.type !== 'number') return undefined;
      if (as !== undefined && as !== 'number' && as !== 'string' && as !== 'array') return undefined;
      return { kind: 'mode', of, as: as ?? 'string', minFrequency: frequency.value.value, span };
    }
    default:
      return undefined;
  }
}

/** Comparator arguments, with array literals flattened: `one_of(['a', 'b'])` = `one_of('a', 'b')`. */
function lowerComparatorArgs(values: readonly SyntaxNode[]): ComparatorArg[] | undefined {
  const args: ComparatorArg[] = [];
  const flat = values.map(unwrapGroups).flatMap((v) => (v.kind === 'array' ? v.items : [v]));
  for (const value of flat) {
    const e = lowerExpression(value);
    if (e === undefined) return undefined;
    if (e.kind === 'literal' || e.kind === 'trait' || e.kind === 'property' || e.kind === 'context' || e.kind === 'duration') {
      args.push(e);
    } else {
      return undefined;
    }
  }
  return args;
}

function unwrapGroups(node: SyntaxNode): SyntaxNode {
  return node.kind === 'group' ? unwrapGroups(node.inner) : node;
}

/** `property('p')`, `context('c')` or `trait('t')` (which the rules allow only in ACCOUNTS definitions). */
function lowerReducerArgument(node: SyntaxNode): ReducerArgument | undefined {
  if (node.kind !== 'call') return undefined;
  const name = resolveFunction(node.name)?.name;
  if (name === 'trait') {
    const path = onlyString(node);
    return path === undefined ? undefined : { kind: 'trait', path: splitPath(path), span: node.span };
  }
  return name === 'property' || name === 'context' ? lowerEventValueRef(node) : undefined;
}

function lowerEventValueRef(call: CallNode): EventValueRef | undefined {
  const arg = call.args.length === 1 ? call.args[0]! : undefined;
  if (arg?.value.kind !== 'literal' || arg.value.type !== 'string' || arg.as !== undefined) return undefined;
  if (arg.label !== undefined && arg.label.text !== 'parent') return undefined;
  const kind = call.name === 'context' ? 'context' : 'property';
  return { kind, path: splitPath(arg.value.value), parent: arg.label !== undefined, span: call.span };
}

/** The single string argument of `event('A')`, `trait('a')`. */
function onlyString(call: CallNode): string | undefined {
  const arg = call.args.length === 1 ? call.args[0]! : undefined;
  if (arg === undefined || hasExtras(arg) || arg.value.kind !== 'literal' || arg.value.type !== 'string') return undefined;
  return arg.value.value;
}

function hasExtras(arg: ArgumentNode): boolean {
  return arg.label !== undefined || arg.as !== undefined;
}

export function isCondition(e: { readonly kind: string }): e is Condition {
  return e.kind === 'comparison' || e.kind === 'and' || e.kind === 'or' || e.kind === 'not' || e.kind === 'quantified';
}

export function isScalar(e: { readonly kind: string }): e is Scalar {
  return e.kind === 'literal' || e.kind === 'trait' || e.kind === 'property' || e.kind === 'context' || e.kind === 'aggregate';
}
