/**
 * `not_boolean`: a boolean is required but something else is there — the whole audience definition
 * ("audience definitions must return a boolean", spec §1.1), an operand of AND / OR / NOT / ANY /
 * ALL, or the condition of `where()`.
 */
import { resolveFunction } from '../functions.ts';
import type { Locatable, RuleContext, SyntaxRule } from '../rule-context.ts';
import type { SyntaxNode } from '../syntax.ts';
import { walkSyntax } from '../syntax-walk.ts';
import { describeType, typeOf } from '../typing.ts';

export const notBoolean: SyntaxRule = (root, context) => {
  if (context.options.kind === 'audience') {
    check(root, context, (found) => `an audience must be a condition that ends in a comparator (e.g. >= 1, .exists()), but this is ${found}`);
  }
  walkSyntax(root, (node) => {
    if (node.kind === 'junction') {
      for (const operand of node.operands) check(operand, context, (found) => `${node.op.toUpperCase()} joins conditions, but this is ${found}`);
    } else if (node.kind === 'prefix') {
      check(node.operand, context, (found) => `${node.op.toUpperCase()} takes a condition, but this is ${found}`);
    } else if (node.kind === 'call' && resolveFunction(node.name)?.name === 'where' && node.args.length === 1) {
      check(node.args[0]!.value, context, (found) => `where() takes a condition, but this is ${found}`);
    }
  });
};

function check(node: SyntaxNode & Locatable, context: RuleContext, message: (found: string) => string): void {
  const type = typeOf(node);
  if (type !== 'boolean' && type !== 'unknown') context.report('not_boolean', message(describeType(type)), node);
}
