/** The inputs and output of parsing a definition: options, the catalog of other definitions, and the result. */
import type { Definition, DefinitionTarget } from './ast.ts';
import type { Diagnostic } from './diagnostic.ts';

/** What the parser needs to know about another audience or computed trait of the space. */
export interface CatalogEntry {
  readonly kind: 'audience' | 'trait';
  readonly target: DefinitionTarget;
  /** the keys its definition references (its `referencedKeys()`). */
  readonly references: readonly string[];
}

export interface DefinitionCatalog {
  lookup(key: string): CatalogEntry | undefined;
  /** custom trait keys seen in the space, if known */
  knownTraitKeys?(): ReadonlySet<string>;
}

export interface ParseOptions {
  readonly kind: 'audience' | 'trait';
  readonly target: DefinitionTarget;
  readonly catalog?: DefinitionCatalog;
  /** the key of the definition being parsed, to detect reference cycles through the catalog. */
  readonly selfKey?: string;
}

export interface ParseResult {
  /** null whenever there is a diagnostic. */
  readonly definition: Definition | null;
  /** sorted by position. */
  readonly diagnostics: readonly Diagnostic[];
}
