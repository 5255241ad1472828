/**
 * `misplaced_quantifier`: in an ACCOUNTS definition `ANY` / `ALL` turn a user-level condition into
 * an account-level one, so they cannot be nested in another `ANY` / `ALL` (the inside is already
 * per user) nor used inside `where(…)` (which looks at single events).
 */
import { walkDefinition } from '../ast-walk.ts';
import type { AstRule } from '../rule-context.ts';

export const misplacedQuantifier: AstRule = (definition, context) => {
  // In USERS every quantifier is already reported by quantifier_in_users.
  if (definition.target !== 'ACCOUNTS') return;
  walkDefinition(definition, (node, ancestors) => {
    if (node.kind !== 'quantified') return;
    const name = node.quantifier.toUpperCase();
    if (ancestors.some((a) => a.kind === 'where')) {
      context.report('misplaced_quantifier', `${name} cannot be used inside where(…), which tests single events`, node);
    } else if (ancestors.some((a) => a.kind === 'quantified')) {
      context.report('misplaced_quantifier', `${name} cannot be nested inside ANY or ALL: their condition is already per user`, node);
    }
  });
};
