/** `invalid_argument`: event names, trait/property/context paths (and each of their segments) and source ids cannot be empty. */
import { walkDefinition } from '../ast-walk.ts';
import { joinPath } from '../path.ts';
import type { AstRule } from '../rule-context.ts';

export const emptyNames: AstRule = (definition, context) => {
  walkDefinition(definition, (node) => {
    switch (node.kind) {
      case 'stream':
        if (node.name === '') context.report('invalid_argument', `${node.source}() needs a non-empty name`, node);
        return;
      case 'trait':
      case 'property':
      case 'context':
        if (node.path.length === 0 || node.path.some((s) => s === '')) {
          context.report(
            'invalid_argument',
            `${node.kind}('${joinPath(node.path)}') has an empty path segment (write a literal dot as \\.)`,
            node,
          );
        }
        return;
      case 'sources':
        if (node.exclude.length === 0) context.report('invalid_argument', 'exclude: needs at least one source id', node);
        else if (node.exclude.some((id) => id === '')) context.report('invalid_argument', 'a source id cannot be empty', node);
        return;
      default:
        return;
    }
  });
};
