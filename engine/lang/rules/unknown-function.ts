/** `unknown_function`: a call whose name the language does not have (spec §1.3), with the closest known name as a hint. */
import { FUNCTION_NAMES, resolveFunction } from '../functions.ts';
import type { SyntaxRule } from '../rule-context.ts';
import { walkSyntax } from '../syntax-walk.ts';

export const unknownFunction: SyntaxRule = (root, context) => {
  walkSyntax(root, (node) => {
    if (node.kind !== 'call' || resolveFunction(node.name) !== undefined) return;
    const hint = closestName(node.name);
    context.report(
      'unknown_function',
      `unknown function ${node.name}()${hint === undefined ? '' : `; did you mean ${hint}()?`}`,
      { span: node.nameSpan },
    );
  });
};

/** A known name equal ignoring case, or within two edits. */
function closestName(name: string): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of FUNCTION_NAMES) {
    const d = known === lower ? 0 : editDistance(lower, known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
