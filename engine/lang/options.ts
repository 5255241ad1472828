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

/**
 * The space's other definitions. A `trait('k')` whose key names none of them is a custom trait,
 * whatever it is compared with (`trait('vip') = true` included): traits may be set after the
 * definition, and a deleted definition's key stays on profiles as a custom trait (spec §3.4).
 */
export interface DefinitionCatalog {
  lookup(key: string): CatalogEntry | undefined;
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
