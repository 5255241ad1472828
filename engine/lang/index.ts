/** The query language front end: parse text or JSON into the AST with diagnostics, print it back, list its references. */
import type { Definition } from './ast.ts';
import { walkDefinition } from './ast-walk.ts';

export type * from './ast.ts';
export { COMPARATORS } from './ast.ts';
export type { Diagnostic, DiagnosticCode } from './diagnostic.ts';
export { DIAGNOSTIC_CODES } from './diagnostic.ts';
export type { CatalogEntry, DefinitionCatalog, ParseOptions, ParseResult } from './options.ts';
export { parseDefinition } from './check.ts';
export { parseDefinitionJson, definitionToJson, stripSpans, DefinitionJson } from './json-form.ts';
export { printDefinition, printCondition, printScalar } from './printer.ts';
export {
  COMPARATOR_ALIASES,
  FUNCTION_NAMES,
  RELATIVE_DATE_COMPARATORS,
  SUGAR_OF,
  SUGAR_OPERATORS,
  VARIADIC_COMPARATORS,
  type SugarOperator,
} from './functions.ts';
export { UNIT_MS } from './units.ts';
export { MAX_PRIMARY_EXPRESSIONS } from './rules/index.ts';

/** The first path segment of every `trait('k')` of a definition, once each, in source order: what the catalog records. */
export function referencedKeys(definition: Definition): string[] {
  const keys = new Set<string>();
  walkDefinition(definition, (node) => {
    if (node.kind === 'trait' && node.path[0] !== undefined) keys.add(node.path[0]);
  });
  return [...keys];
}
