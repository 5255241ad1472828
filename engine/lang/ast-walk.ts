/** Visits every node of a definition's AST with its ancestors, parents before children, in source order. */
import type { Aggregate, Condition, Definition, Duration, EventStream, Filter, Scalar } from './ast.ts';

export type AstNode = Condition | Scalar | EventStream | Filter | Duration;

export type AstVisitor = (node: AstNode, ancestors: readonly AstNode[]) => void;

export function walkDefinition(definition: Definition, enter: AstVisitor): void {
  walkAst(definition.kind === 'audience' ? definition.condition : definition.value, enter);
}

export function walkAst(root: AstNode, enter: AstVisitor): void {
  const ancestors: AstNode[] = [];
  const visit = (node: AstNode) => {
    enter(node, ancestors);
    ancestors.push(node);
    for (const child of astChildren(node)) visit(child);
    ancestors.pop();
  };
  visit(root);
}

export function astChildren(node: AstNode): readonly AstNode[] {
  switch (node.kind) {
    case 'and':
    case 'or':
      return node.operands;
    case 'not':
    case 'quantified':
      return [node.operand];
    case 'comparison':
      return [node.subject, ...node.args];
    case 'aggregate': {
      const argument = reducerArgument(node);
      return argument === undefined ? [node.stream] : [node.stream, argument];
    }
    case 'stream':
      return node.filters;
    case 'where':
      return [node.condition];
    case 'within':
    case 'expires_after':
      return [node.duration];
    case 'between':
      return [node.from, node.to];
    case 'sources':
    case 'literal':
    case 'trait':
    case 'property':
    case 'context':
    case 'duration':
      return [];
  }
}

/** The property()/context() a reducer reads, if it reads one. */
export function reducerArgument(aggregate: Aggregate): Scalar | undefined {
  return aggregate.reducer.kind === 'count' ? undefined : aggregate.reducer.of;
}

/** True when `stream` sits inside the where() of another stream: a funnel step (spec §1.6). */
export function isNestedStream(ancestors: readonly AstNode[]): boolean {
  return ancestors.some((a) => a.kind === 'where');
}
