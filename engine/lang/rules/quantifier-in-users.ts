/** `quantifier_in_users`: `ANY` / `ALL` aggregate users of an account, so they only exist in ACCOUNTS definitions (spec §1.1). */
import { walkDefinition } from '../ast-walk.ts';
import type { AstRule } from '../rule-context.ts';

export const quantifierInUsers: AstRule = (definition, context) => {
  if (definition.target !== 'USERS') return;
  walkDefinition(definition, (node) => {
    if (node.kind === 'quantified') {
      context.report(
        'quantifier_in_users',
        `${node.quantifier.toUpperCase()} qualifies the users of an account, so it is only allowed in ACCOUNTS definitions`,
        node,
      );
    }
  });
};
