/** The language's function names: what each one is, the infix sugar and the legacy aliases that map onto canonical comparators. */
import { COMPARATORS, type ComparatorName } from './ast.ts';

/** What a function does in a chain; decides which functions may follow it. */
export type FunctionRole = 'stream' | 'extractor' | 'filter' | 'reducer' | 'comparator';

export const STREAM_FUNCTIONS = ['event', 'entity'] as const;
export const EXTRACTOR_FUNCTIONS = ['trait', 'property', 'context', 'literal'] as const;
export const FILTER_FUNCTIONS = ['where', 'sources', 'within', 'between', 'expires_after'] as const;
export const REDUCER_FUNCTIONS = ['count', 'sum', 'avg', 'min', 'max', 'mode', 'first', 'last', 'unique'] as const;

export type SugarOperator = '=' | '==' | '!=' | '>' | '>=' | '<' | '<=';

/** Infix sugar → canonical comparator (`=` and `==` are both accepted, spec §1.1). */
export const SUGAR_OPERATORS: Readonly<Record<SugarOperator, ComparatorName>> = {
  '=': 'equals',
  '==': 'equals',
  '!=': 'differs',
  '>': 'greater_than',
  '>=': 'at_least',
  '<': 'less_than',
  '<=': 'at_most',
};

/** Canonical comparator → the infix form the printer uses for it. */
export const SUGAR_OF: Readonly<Partial<Record<ComparatorName, SugarOperator>>> = {
  equals: '=',
  differs: '!=',
  greater_than: '>',
  at_least: '>=',
  less_than: '<',
  at_most: '<=',
};

/** Names from the first published version of the language (spec §1.3), accepted as aliases. */
export const COMPARATOR_ALIASES: Readonly<Record<string, ComparatorName>> = {
  eq: 'equals',
  neq: 'differs',
  is_null: 'absent',
  is_set: 'exists',
  gt: 'greater_than',
  gte: 'at_least',
  lt: 'less_than',
  lte: 'at_most',
  contains_one: 'contains',
};

/**
 * Comparators taking any number (≥ 1) of values, true when any value matches (`omits`: none
 * contained); an array literal among their arguments is flattened. The docs show `contains`,
 * `one_of` and `none_of` with several values; the other text comparators take several too, as the
 * evaluator (engine/eval/values.ts) does.
 */
export const VARIADIC_COMPARATORS: ReadonlySet<ComparatorName> = new Set([
  'contains',
  'omits',
  'starts_with',
  'ends_with',
  'one_of',
  'none_of',
]);

/** Comparators whose one argument is a duration relative to the compute time. */
export const RELATIVE_DATE_COMPARATORS: ReadonlySet<ComparatorName> = new Set([
  'within_last',
  'before_last',
  'after_next',
  'within_next',
]);

export interface ResolvedFunction {
  /** the canonical name (aliases resolved). */
  readonly name: string;
  readonly role: FunctionRole;
}

const TABLE = new Map<string, ResolvedFunction>();
for (const name of STREAM_FUNCTIONS) TABLE.set(name, { name, role: 'stream' });
for (const name of EXTRACTOR_FUNCTIONS) TABLE.set(name, { name, role: 'extractor' });
for (const name of FILTER_FUNCTIONS) TABLE.set(name, { name, role: 'filter' });
for (const name of REDUCER_FUNCTIONS) TABLE.set(name, { name, role: 'reducer' });
for (const name of COMPARATORS) TABLE.set(name, { name, role: 'comparator' });
for (const [alias, name] of Object.entries(COMPARATOR_ALIASES)) TABLE.set(alias, { name, role: 'comparator' });

/** Every name the language knows, canonical and legacy. */
export const FUNCTION_NAMES: readonly string[] = [...TABLE.keys()];

/** The canonical name and role of a function name (function names are case-sensitive), or undefined. */
export function resolveFunction(name: string): ResolvedFunction | undefined {
  return TABLE.get(name);
}

export function isComparatorName(name: string): name is ComparatorName {
  return (COMPARATORS as readonly string[]).includes(name);
}
