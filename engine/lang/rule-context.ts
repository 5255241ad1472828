/** What a validation rule sees: the parse options, and `report()`, which turns a node into a located diagnostic. */
import type { Definition, DefinitionTarget, Span } from './ast.ts';
import type { Diagnostic, DiagnosticCode } from './diagnostic.ts';
import type { DefinitionCatalog } from './options.ts';
import type { SyntaxNode } from './syntax.ts';
import type { LineMap } from './line-map.ts';

export interface RuleOptions {
  readonly kind: 'audience' | 'trait';
  readonly target: DefinitionTarget;
  readonly catalog?: DefinitionCatalog;
  readonly selfKey?: string;
}

/** Something a diagnostic can point at: a node with a span, or (JSON form) a node with a known JSON path. */
export interface Locatable {
  readonly span?: Span;
}

/** Where a diagnostic about a node goes: the start of its span, or its last character. */
export type Edge = 'start' | 'end';

export class RuleContext {
  readonly diagnostics: Diagnostic[] = [];

  constructor(
    readonly options: RuleOptions,
    private readonly lines: LineMap | undefined,
    /** JSON form: the path of each node object, for messages (the JSON has no line/column). */
    private readonly jsonPaths: WeakMap<object, string> | undefined = undefined,
  ) {}

  report(code: DiagnosticCode, message: string, at: Locatable, edge: Edge = 'start'): void {
    const span = at.span;
    if (span !== undefined) {
      const position =
        edge === 'end' && this.lines !== undefined
          ? this.lines.positionAt(Math.max(span.start, span.end - 1))
          : { line: span.line, column: span.column };
      this.diagnostics.push({ code, message, ...position });
      return;
    }
    const path = this.jsonPaths?.get(at);
    this.diagnostics.push({ code, message: path === undefined ? message : `${message} (at ${path})`, line: 1, column: 1 });
  }
}

/** A check over the syntax tree (text form only): names, chains and argument shapes the AST cannot express. */
export type SyntaxRule = (root: SyntaxNode, context: RuleContext) => void;

/** A check over the AST, shared by the text and the JSON form. */
export type AstRule = (definition: Definition, context: RuleContext) => void;
