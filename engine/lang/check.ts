/** The pipelines: text → syntax tree → rules → AST → rules, and the shared tail for the JSON form. */
import type { Definition } from './ast.ts';
import type { Diagnostic } from './diagnostic.ts';
import { LineMap } from './line-map.ts';
import { lowerDefinition } from './lower.ts';
import type { ParseOptions, ParseResult } from './options.ts';
import { parseSyntax } from './parser.ts';
import { RuleContext } from './rule-context.ts';
import { AST_RULES, SYNTAX_RULES } from './rules/index.ts';

export function parseDefinition(source: string, options: ParseOptions): ParseResult {
  const syntax = parseSyntax(source);
  const context = new RuleContext(options, new LineMap(source));
  for (const rule of SYNTAX_RULES) rule(syntax.root, context);
  const definition = lowerDefinition(syntax.root, options.kind, options.target);
  if (definition !== undefined) for (const rule of AST_RULES) rule(definition, context);
  const diagnostics = sortDiagnostics([...syntax.diagnostics, ...context.diagnostics]);
  if (definition === undefined && diagnostics.length === 0) {
    // Every shape lowering leaves out is reported by a rule; reaching here is a bug in a rule.
    throw new Error(`invariant: the definition did not lower but no rule reported why: ${JSON.stringify(source)}`);
  }
  return { definition: diagnostics.length === 0 ? (definition ?? null) : null, diagnostics };
}

/** Runs the AST rules on a definition whose nodes `context` can locate. */
export function checkDefinition(definition: Definition, context: RuleContext): void {
  for (const rule of AST_RULES) rule(definition, context);
}

/** By line, then column; equal diagnostics (same code, place and message) once. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return [...diagnostics]
    .sort((a, b) => a.line - b.line || a.column - b.column)
    .filter((d) => {
      const key = `${d.code}\u0000${d.line}\u0000${d.column}\u0000${d.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}
