/** `too_many_expressions`: a definition may have at most 50 primary expressions (comparisons), spec §1.1. */
import { walkDefinition } from '../ast-walk.ts';
import type { AstRule, Locatable } from '../rule-context.ts';

export const MAX_PRIMARY_EXPRESSIONS = 50;

export const tooManyExpressions: AstRule = (definition, context) => {
  let count = 0;
  let first: Locatable | undefined;
  walkDefinition(definition, (node) => {
    if (node.kind !== 'comparison') return;
    count++;
    if (count === MAX_PRIMARY_EXPRESSIONS + 1) first = node;
  });
  if (first !== undefined) {
    context.report(
      'too_many_expressions',
      `a definition may have at most ${MAX_PRIMARY_EXPRESSIONS} primary expressions (comparisons); this one has ${count}`,
      first,
    );
  }
};
