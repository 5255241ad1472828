/**
 * `invalid_chain`: a `unique()` list compared directly (only `.count()` may follow `unique()`, spec
 * §1.2). The text form reports this on the chain; the JSON form can only express it here.
 */
import { walkDefinition } from '../ast-walk.ts';
import type { AstRule } from '../rule-context.ts';

export const comparisonSubject: AstRule = (definition, context) => {
  walkDefinition(definition, (node) => {
    if (node.kind !== 'comparison' || node.subject.kind !== 'aggregate') return;
    const reducer = node.subject.reducer;
    if (reducer.kind === 'unique' && !reducer.count) {
      context.report('invalid_chain', `a unique() list cannot be compared; only .count() may follow unique()`, node.subject);
    }
  });
};
