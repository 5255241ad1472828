/** `invalid_argument`: the minimum frequency of `mode(property('p'), n)` is a whole number of at least 1. */
import { walkDefinition } from '../ast-walk.ts';
import type { AstRule } from '../rule-context.ts';

export const reducerArguments: AstRule = (definition, context) => {
  walkDefinition(definition, (node) => {
    if (node.kind !== 'aggregate' || node.reducer.kind !== 'mode') return;
    const n = node.reducer.minFrequency;
    if (!Number.isInteger(n) || n < 1) {
      context.report('invalid_argument', `mode() needs a minimum frequency that is a whole number of at least 1, not ${n}`, node.reducer);
    }
  });
};
