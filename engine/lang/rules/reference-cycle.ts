/**
 * `reference_cycle`: following the catalog's references from this definition's `trait('k')` keys
 * leads back to the definition itself ("The audience would create a cycle by referencing another
 * audience", spec §3.1). The message shows the cycle.
 */
import { walkDefinition } from '../ast-walk.ts';
import type { DefinitionCatalog } from '../options.ts';
import type { AstRule } from '../rule-context.ts';

export const referenceCycle: AstRule = (definition, context) => {
  const { catalog, selfKey } = context.options;
  if (catalog === undefined || selfKey === undefined) return;
  const checked = new Set<string>();
  walkDefinition(definition, (node) => {
    if (node.kind !== 'trait') return;
    const key = node.path[0];
    if (key === undefined || checked.has(key)) return;
    checked.add(key);
    const cycle = pathBack(key, selfKey, catalog);
    if (cycle !== undefined) {
      const what = definition.kind === 'audience' ? 'audience' : 'computed trait';
      context.report(
        'reference_cycle',
        `the ${what} '${selfKey}' would create a cycle by referencing '${key}': ${[selfKey, ...cycle].join(' → ')}`,
        node,
      );
    }
  });
};

/** The shortest chain of keys from `from` to `target` through catalog references, or undefined. */
function pathBack(from: string, target: string, catalog: DefinitionCatalog): string[] | undefined {
  // Breadth first with back links: catalogs can be deep, and the shortest cycle reads best.
  const cameFrom = new Map<string, string | null>([[from, null]]);
  const queue = [from];
  for (let i = 0; i < queue.length; i++) {
    const key = queue[i]!;
    if (key === target) {
      const path: string[] = [];
      for (let k: string | null = key; k !== null; k = cameFrom.get(k) ?? null) path.unshift(k);
      return path;
    }
    for (const next of catalog.lookup(key)?.references ?? []) {
      if (!cameFrom.has(next)) {
        cameFrom.set(next, key);
        queue.push(next);
      }
    }
  }
  return undefined;
}
