/**
 * `invalid_argument` for durations: a whole, non-negative number of units; `within()` and
 * `expires_after()` need a positive one; `between(A, B)` needs A shorter than B (events from A to B ago).
 */
import type { Duration } from '../ast.ts';
import { walkDefinition } from '../ast-walk.ts';
import type { AstRule } from '../rule-context.ts';
import { printDuration } from '../units.ts';

export const durationArguments: AstRule = (definition, context) => {
  const wellFormed = (d: Duration) => Number.isInteger(d.amount) && d.amount >= 0;
  walkDefinition(definition, (node) => {
    switch (node.kind) {
      case 'duration':
        if (!wellFormed(node)) {
          context.report('invalid_argument', `a duration is a whole, non-negative number of units, not ${node.amount}`, node);
        }
        return;
      case 'within':
      case 'expires_after':
        if (wellFormed(node.duration) && node.duration.amount === 0) {
          context.report('invalid_argument', `${node.kind}() needs a duration longer than 0`, node.duration);
        }
        return;
      case 'between':
        if (wellFormed(node.from) && wellFormed(node.to) && node.from.ms >= node.to.ms) {
          context.report(
            'invalid_argument',
            `between(A, B) selects events from A to B ago, so A must be shorter than B; ${printDuration(node.from)} is not shorter than ${printDuration(node.to)}`,
            node.from,
          );
        }
        return;
      default:
        return;
    }
  });
};
