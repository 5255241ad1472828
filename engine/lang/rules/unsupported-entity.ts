/** `unsupported`: `entity(…)` belongs to Linked Audiences (Data Graph), which Flock does not evaluate. */
import { walkDefinition } from '../ast-walk.ts';
import type { AstRule } from '../rule-context.ts';

export const unsupportedEntity: AstRule = (definition, context) => {
  walkDefinition(definition, (node) => {
    if (node.kind === 'stream' && node.source === 'entity') {
      context.report('unsupported', `entity('${node.name}') is part of Linked Audiences, which Flock does not support`, node);
    }
  });
};
