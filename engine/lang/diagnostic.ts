/** Diagnostics: user mistakes in a definition, reported as data with a stable code and a source location. */

export const DIAGNOSTIC_CODES = [
  /** the text does not follow the grammar (unexpected token, unterminated string …). */
  'syntax_error',
  /** a function name the language does not have. */
  'unknown_function',
  /** a function called where its predecessor's return type does not allow it (e.g. a reducer on a scalar). */
  'invalid_chain',
  /** wrong number or kind of arguments. */
  'invalid_argument',
  /** an audience whose expression does not end in a boolean. */
  'not_boolean',
  /** a computed trait whose expression does not end in a scalar. */
  'not_scalar',
  /** `property()` / `context()` outside `where(...)` or a reducer argument. */
  'misplaced_property',
  /** `parent:` outside a nested (funnel) event. */
  'misplaced_parent',
  /** `ANY` / `ALL` in a USERS definition. */
  'quantifier_in_users',
  /** `ANY` / `ALL` nested in another `ANY` / `ALL` or used inside `where(…)` (ACCOUNTS definitions). */
  'misplaced_quantifier',
  /** more than 50 primary expressions. */
  'too_many_expressions',
  /** definitions that reference each other in a cycle. */
  'reference_cycle',
  /** a construct the language has but Flock does not evaluate (e.g. `entity()` of Linked Audiences). */
  'unsupported',
  /** the JSON form does not match its schema. */
  'invalid_json',
] as const;
export type DiagnosticCode = (typeof DIAGNOSTIC_CODES)[number];

export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly message: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
}
