/** Visits every node of a syntax tree, parents before children, in source order. */
import type { SyntaxNode } from './syntax.ts';

export function walkSyntax(node: SyntaxNode, enter: (node: SyntaxNode) => void): void {
  enter(node);
  for (const child of syntaxChildren(node)) walkSyntax(child, enter);
}

export function syntaxChildren(node: SyntaxNode): readonly SyntaxNode[] {
  switch (node.kind) {
    case 'junction':
      return node.operands;
    case 'prefix':
      return [node.operand];
    case 'infix':
      return [node.left, node.right];
    case 'chain':
      return [node.head, ...node.calls];
    case 'call':
      return node.args.map((a) => a.value);
    case 'array':
      return node.items;
    case 'object':
      return node.entries.flatMap((e) => e.values);
    case 'group':
      return [node.inner];
    case 'literal':
    case 'duration':
    case 'error':
      return [];
  }
}
