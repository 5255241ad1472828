/**
 * `invalid_argument` for what a reducer reads:
 * - the minimum frequency of `mode(property('p'), n)` is a whole number of at least 1;
 * - `trait('t')` as a reducer's argument (`mode(trait('email'), 1)`: each event counts with the
 *   trait of its user) exists only in ACCOUNTS definitions (spec §2: account-level computed traits
 *   return "the most frequent user trait", "first user trait"), never on a funnel step (an event
 *   nested in another event's where(…)), and reads a custom trait — not an audience or computed
 *   trait of the catalog.
 */
import { isNestedStream, walkDefinition } from '../ast-walk.ts';
import { joinPath } from '../path.ts';
import { quote } from '../printer.ts';
import type { AstRule } from '../rule-context.ts';

export const reducerArguments: AstRule = (definition, context) => {
  walkDefinition(definition, (node, ancestors) => {
    if (node.kind !== 'aggregate') return;
    const reducer = node.reducer;
    if (reducer.kind === 'mode') {
      const n = reducer.minFrequency;
      if (!Number.isInteger(n) || n < 1) {
        context.report('invalid_argument', `mode() needs a minimum frequency that is a whole number of at least 1, not ${n}`, reducer);
      }
    }
    if (reducer.kind === 'count' || reducer.of.kind !== 'trait') return;
    const of = reducer.of;
    const call = `${reducer.kind}(trait(${quote(joinPath(of.path))}))`;
    if (definition.target !== 'ACCOUNTS') {
      context.report(
        'invalid_argument',
        `${call} reads a trait of each of an account's users, so it is only allowed in ACCOUNTS definitions; a USERS definition reduces property('…') or context('…')`,
        of,
      );
    } else if (isNestedStream(ancestors)) {
      context.report(
        'invalid_argument',
        `${call} is not allowed on an event nested in another event's where(…) (a funnel step); a user trait can only be reduced at the top of an account definition`,
        of,
      );
    } else {
      const key = of.path[0];
      const { catalog, selfKey } = context.options;
      if (key !== undefined && key !== selfKey && catalog?.lookup(key) !== undefined) {
        context.report(
          'invalid_argument',
          `${call} reads a custom trait of each user, but '${key}' is an audience or computed trait, which a reducer cannot read`,
          of,
        );
      }
    }
  });
};
