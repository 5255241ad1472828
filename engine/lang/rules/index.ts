/** Every validation rule, in the order they run (the diagnostics are sorted by position afterwards). */
import type { AstRule, SyntaxRule } from '../rule-context.ts';
import { callArguments } from './call-arguments.ts';
import { comparatorArguments } from './comparator-arguments.ts';
import { comparisonSubject } from './comparison-subject.ts';
import { durationArguments } from './duration-arguments.ts';
import { emptyNames } from './empty-names.ts';
import { invalidChain } from './invalid-chain.ts';
import { misplacedParent } from './misplaced-parent.ts';
import { misplacedProperty } from './misplaced-property.ts';
import { misplacedQuantifier } from './misplaced-quantifier.ts';
import { notBoolean } from './not-boolean.ts';
import { notScalar } from './not-scalar.ts';
import { quantifierInUsers } from './quantifier-in-users.ts';
import { reducerArguments } from './reducer-arguments.ts';
import { referenceCycle } from './reference-cycle.ts';
import { tooManyExpressions } from './too-many-expressions.ts';
import { unknownFunction } from './unknown-function.ts';
import { unsupportedEntity } from './unsupported-entity.ts';
import { unsupportedFunnelReducer } from './unsupported-funnel-reducer.ts';

/** Rules over the syntax tree: what only the text form can get wrong. */
export const SYNTAX_RULES: readonly SyntaxRule[] = [unknownFunction, invalidChain, callArguments, notBoolean, notScalar];

/** Rules over the AST: shared by the text and the JSON form. */
export const AST_RULES: readonly AstRule[] = [
  comparatorArguments,
  durationArguments,
  reducerArguments,
  emptyNames,
  comparisonSubject,
  misplacedProperty,
  misplacedParent,
  quantifierInUsers,
  misplacedQuantifier,
  tooManyExpressions,
  unsupportedEntity,
  unsupportedFunnelReducer,
  referenceCycle,
];

export { MAX_PRIMARY_EXPRESSIONS } from './too-many-expressions.ts';
