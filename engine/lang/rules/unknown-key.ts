/**
 * `unknown_key`: the audience-membership form `trait('k') = true|false` (or `!=`) names a key that
 * is neither an audience or computed trait of the catalog nor (when the catalog knows them) a
 * custom trait of the space. Other uses of `trait()` are plain custom traits and never an error.
 */
import type { Comparison } from '../ast.ts';
import { walkDefinition } from '../ast-walk.ts';
import type { AstRule } from '../rule-context.ts';

export const unknownKey: AstRule = (definition, context) => {
  const catalog = context.options.catalog;
  if (catalog === undefined) return;
  const traitKeys = catalog.knownTraitKeys?.();
  walkDefinition(definition, (node) => {
    if (node.kind !== 'comparison') return;
    const key = membershipKey(node);
    if (key === undefined || catalog.lookup(key) !== undefined || traitKeys?.has(key) === true) return;
    context.report('unknown_key', `trait('${key}') tests membership of '${key}', but no audience or trait with that key exists`, node.subject);
  });
};

/** The key of `trait('k') = true|false` / `!= true|false`, if `c` has that form. */
function membershipKey(c: Comparison): string | undefined {
  if (c.comparator !== 'equals' && c.comparator !== 'differs') return undefined;
  if (c.subject.kind !== 'trait' || c.subject.path.length !== 1) return undefined;
  const arg = c.args.length === 1 ? c.args[0] : undefined;
  return arg?.kind === 'literal' && arg.type === 'boolean' ? c.subject.path[0] : undefined;
}
