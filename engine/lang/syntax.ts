/**
 * The parser's output: a syntax tree of generic calls and operators, before names, chains and
 * arguments are checked. Rules in `rules/` check it; `lower.ts` turns it into the AST.
 * Literals and durations are already AST nodes.
 */
import type { Duration, Literal, Span } from './ast.ts';
import type { SugarOperator } from './functions.ts';

export type SyntaxNode =
  | JunctionNode
  | PrefixNode
  | InfixNode
  | ChainNode
  | CallNode
  | Literal
  | Duration
  | ArrayNode
  | ObjectNode
  | GroupNode
  | ErrorNode;

/** `a AND b AND c`, `a OR b`. */
export interface JunctionNode {
  readonly kind: 'junction';
  readonly op: 'and' | 'or';
  readonly operands: readonly SyntaxNode[];
  readonly span: Span;
}

/** `NOT x`, `ANY x`, `ALL x`. */
export interface PrefixNode {
  readonly kind: 'prefix';
  readonly op: 'not' | 'any' | 'all';
  readonly operand: SyntaxNode;
  readonly span: Span;
}

/** `left >= right`. */
export interface InfixNode {
  readonly kind: 'infix';
  readonly op: SugarOperator;
  readonly opSpan: Span;
  readonly left: SyntaxNode;
  readonly right: SyntaxNode;
  readonly span: Span;
}

/** `head.call().call()` with at least one call after the head. */
export interface ChainNode {
  readonly kind: 'chain';
  readonly head: SyntaxNode;
  readonly calls: readonly CallNode[];
  readonly span: Span;
}

/** `name(args)`. */
export interface CallNode {
  readonly kind: 'call';
  readonly name: string;
  readonly nameSpan: Span;
  readonly args: readonly ArgumentNode[];
  readonly span: Span;
}

export interface Name {
  readonly text: string;
  readonly span: Span;
}

/** `[label:] value [as type]`: `parent: 5 days`, `property('p') as string`. */
export interface ArgumentNode {
  readonly kind: 'argument';
  readonly label?: Name;
  readonly value: SyntaxNode;
  readonly as?: Name;
  readonly span: Span;
}

/** `['a', 'b']`. */
export interface ArrayNode {
  readonly kind: 'array';
  readonly items: readonly SyntaxNode[];
  readonly span: Span;
}

/** `{exclude: 'a', 'b'}`: values after a key up to the next key belong to it. */
export interface ObjectNode {
  readonly kind: 'object';
  readonly entries: readonly { readonly key: Name; readonly values: readonly SyntaxNode[] }[];
  readonly span: Span;
}

/** `( x )`. */
export interface GroupNode {
  readonly kind: 'group';
  readonly inner: SyntaxNode;
  readonly span: Span;
}

/** Where the parser recovered from a syntax error (already reported). */
export interface ErrorNode {
  readonly kind: 'error';
  readonly span: Span;
}
