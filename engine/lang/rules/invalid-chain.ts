/**
 * `invalid_chain`: a function called where the type of what precedes it does not allow it (spec
 * §1.2 "Return Type"): a reducer on a scalar, `.count()` after anything but `unique()` or a stream,
 * a comparator on a stream, a filter after a reducer, anything after a comparator, a chain that
 * starts with something other than `event()`, `entity()`, `trait()`, `property()`, `context()`,
 * `literal()` or a value.
 */
import { resolveFunction, type ResolvedFunction } from '../functions.ts';
import type { SyntaxRule } from '../rule-context.ts';
import type { CallNode } from '../syntax.ts';
import { walkSyntax } from '../syntax-walk.ts';
import { describeType, step, typeOf, type SyntaxType } from '../typing.ts';

export const invalidChain: SyntaxRule = (root, context) => {
  const chained = new Set<CallNode>();
  walkSyntax(root, (node) => {
    if (node.kind === 'chain') for (const call of node.calls) chained.add(call);
  });
  walkSyntax(root, (node) => {
    if (node.kind === 'call' && !chained.has(node)) {
      const fn = resolveFunction(node.name);
      if (fn !== undefined && fn.role !== 'stream' && fn.role !== 'extractor') {
        context.report('invalid_chain', `${node.name}() cannot start an expression: ${expectation(fn)}`, {
          span: node.nameSpan,
        });
      }
    } else if (node.kind === 'chain') {
      let type = typeOf(node.head);
      for (const call of node.calls) {
        const fn = resolveFunction(call.name);
        if (type === 'unknown' || fn === undefined) return;
        const next = step(type, fn);
        if (next === undefined) {
          context.report('invalid_chain', message(type, fn, call.name), { span: call.nameSpan });
          return;
        }
        type = next;
      }
    } else if (node.kind === 'infix') {
      const type = typeOf(node.left);
      if (type !== 'scalar' && type !== 'aggregate' && type !== 'unknown') {
        context.report('invalid_chain', `${node.op} compares a value, but its left side is ${describeType(type)}${advice(type)}`, {
          span: node.opSpan,
        });
      }
    }
  });
};

function message(before: SyntaxType, fn: ResolvedFunction, written: string): string {
  const name = `${written}()`;
  if (before === 'boolean') return `nothing may follow a comparator, but ${name} does`;
  switch (fn.role) {
    case 'stream':
    case 'extractor':
      return `${name} starts an expression; it cannot follow ${describeType(before)}`;
    case 'filter':
      return before === 'aggregate' || before === 'list'
        ? `${name} filters the event stream, so it must come before the reducer`
        : `${name} filters an event stream, but it follows ${describeType(before)}`;
    case 'reducer':
      if (before === 'list') return `only .count() may follow unique(), not ${name}`;
      if (before === 'aggregate') return `${name} cannot follow a reducer (only unique() may be followed by .count())`;
      return `${name} reduces an event stream, but it follows ${describeType(before)}`;
    case 'comparator':
      return `${name} compares a value, but it follows ${describeType(before)}${advice(before)}`;
  }
}

function advice(type: SyntaxType): string {
  if (type === 'stream') return '; reduce the stream first, e.g. .count()';
  if (type === 'list') return '; count it first with .count()';
  return '';
}

function expectation(fn: ResolvedFunction): string {
  switch (fn.role) {
    case 'filter':
    case 'reducer':
      return "it must follow an event stream, e.g. event('Order Completed')." + fn.name + '(…)';
    default:
      return "it must follow a value, e.g. trait('plan')." + fn.name + '(…)';
  }
}
