/**
 * `invalid_argument` for durations: a whole, non-negative number of units; `within()` and
 * `expires_after()` need a positive one; `between(A, B)` needs A shorter than B (events from A to B ago);
 * a session window (`expires_after`) lasts from 30 minutes to 90 days, as Segment allows.
 */
import type { Duration } from '../ast.ts';
import { walkDefinition } from '../ast-walk.ts';
import type { AstRule } from '../rule-context.ts';
import { printDuration } from '../units.ts';

const SESSION_MIN_MS = 30 * 60_000;
const SESSION_MAX_MS = 90 * 86_400_000;

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
        } else if (node.kind === 'expires_after' && wellFormed(node.duration) && (node.duration.ms < SESSION_MIN_MS || node.duration.ms > SESSION_MAX_MS)) {
          context.report('invalid_argument', `a session window (expires_after) lasts from 30 minutes to 90 days, not ${printDuration(node.duration)}`, node.duration);
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
