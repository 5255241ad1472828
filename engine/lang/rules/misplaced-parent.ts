/**
 * `misplaced_parent`: `parent:` — in `property(parent: …)`, `context(parent: …)` or
 * `within(parent: …)` — refers to the event of the enclosing funnel step (spec §1.6), so it is only
 * valid for an event nested inside another event's `where(…)`: `within(parent:)` on the nested
 * event itself, `property(parent:)` inside the nested event's own `where(…)`.
 */
import { isNestedStream, walkDefinition, type AstNode } from '../ast-walk.ts';
import type { AstRule } from '../rule-context.ts';

export const misplacedParent: AstRule = (definition, context) => {
  walkDefinition(definition, (node, ancestors) => {
    if ((node.kind === 'property' || node.kind === 'context') && node.parent) {
      if (!insideNestedWhere(ancestors)) {
        context.report(
          'misplaced_parent',
          `${node.kind}(parent: …) reads the parent event of a funnel step, so it is only allowed inside the where(…) of an event nested in another event's where(…)`,
          node,
        );
      }
    } else if (node.kind === 'within' && node.parent) {
      // ancestors end with the stream this window belongs to.
      if (!isNestedStream(ancestors.slice(0, -1))) {
        context.report(
          'misplaced_parent',
          "within(parent: …) measures from the parent event of a funnel step, so it is only allowed on an event nested in another event's where(…)",
          node,
        );
      }
    }
  });
};

/** Inside the where() of a stream that is itself inside a where(), and not a reducer's argument. */
function insideNestedWhere(ancestors: readonly AstNode[]): boolean {
  if (ancestors.at(-1)?.kind === 'aggregate') return false;
  const where = ancestors.findLastIndex((a) => a.kind === 'where');
  if (where < 1) return false;
  return ancestors[where - 1]?.kind === 'stream' && isNestedStream(ancestors.slice(0, where - 1));
}
