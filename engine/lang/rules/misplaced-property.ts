/**
 * `misplaced_property`: `property()` and `context()` read the event being filtered or reduced, so
 * they are only valid inside `where(…)` or as a reducer's argument (spec §1.3).
 */
import { walkDefinition } from '../ast-walk.ts';
import type { AstRule } from '../rule-context.ts';

export const misplacedProperty: AstRule = (definition, context) => {
  walkDefinition(definition, (node, ancestors) => {
    if (node.kind !== 'property' && node.kind !== 'context') return;
    const inWhere = ancestors.some((a) => a.kind === 'where');
    const reducerArgument = ancestors.at(-1)?.kind === 'aggregate';
    if (!inWhere && !reducerArgument) {
      context.report(
        'misplaced_property',
        `${node.kind}() reads a field of an event, so it can only be used inside where(…) or as a reducer's argument`,
        node,
      );
    }
  });
};
