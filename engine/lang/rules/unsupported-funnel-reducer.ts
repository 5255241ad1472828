/**
 * `unsupported`: a funnel step — an event nested in another event's `where(…)` — is evaluated per
 * parent event as "did it happen (N times)", so Flock only supports `.count()` on it.
 */
import { isNestedStream, walkDefinition } from '../ast-walk.ts';
import type { AstRule } from '../rule-context.ts';

export const unsupportedFunnelReducer: AstRule = (definition, context) => {
  walkDefinition(definition, (node, ancestors) => {
    if (node.kind !== 'aggregate' || node.reducer.kind === 'count' || !isNestedStream(ancestors)) return;
    const reducer = node.reducer.kind === 'unique' && node.reducer.count ? 'unique().count()' : `${node.reducer.kind}()`;
    context.report(
      'unsupported',
      `an event nested in another event's where(…) (a funnel step) can only be counted with .count(), not ${reducer}`,
      node.reducer.span === undefined ? node : node.reducer,
    );
  });
};
