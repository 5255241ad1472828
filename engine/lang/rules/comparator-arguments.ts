/**
 * `invalid_argument` for comparator arguments (spec §1.3): how many each comparator takes
 * (`exists()` none, `one_of()` at least one, most exactly one), durations only and always for
 * `within_last` / `before_last` / `after_next` / `within_next`, ISO-8601 instants for
 * `before_date` / `after_date`, no `null` where it cannot mean anything.
 */
import { parseIsoTimestamp } from '../../event/iso-timestamp.ts';
import type { ComparatorArg, ComparatorName, Comparison } from '../ast.ts';
import { walkDefinition } from '../ast-walk.ts';
import { RELATIVE_DATE_COMPARATORS, VARIADIC_COMPARATORS } from '../functions.ts';
import type { AstRule, Locatable, RuleContext } from '../rule-context.ts';

const NO_ARGUMENTS: ReadonlySet<ComparatorName> = new Set(['absent', 'exists']);
const DATE_COMPARATORS: ReadonlySet<ComparatorName> = new Set(['before_date', 'after_date']);
/** Comparators for which `null` is a meaningful argument (equality against a missing value). */
const NULL_ALLOWED: ReadonlySet<ComparatorName> = new Set(['equals', 'differs', 'one_of', 'none_of']);
const BOOLEAN_ALLOWED: ReadonlySet<ComparatorName> = new Set(['equals', 'differs', 'one_of', 'none_of']);

export const comparatorArguments: AstRule = (definition, context) => {
  walkDefinition(definition, (node) => {
    if (node.kind === 'comparison') check(node, context);
  });
};

function check(c: Comparison, context: RuleContext): void {
  const name = c.comparator;
  const shown = `${name}()`;
  const report = (message: string, at: Locatable, edge: 'start' | 'end' = 'start') =>
    context.report('invalid_argument', message, at, edge);

  if (NO_ARGUMENTS.has(name)) {
    if (c.args.length > 0) report(`${shown} takes no arguments`, c.args[0]!);
    return;
  }
  if (c.args.length === 0) {
    report(`${shown} needs ${VARIADIC_COMPARATORS.has(name) ? 'at least one value' : 'an argument'}`, c, 'end');
    return;
  }
  if (!VARIADIC_COMPARATORS.has(name) && c.args.length > 1) {
    report(`${shown} takes one argument, not ${c.args.length}`, c.args[1]!);
    return;
  }
  for (const arg of c.args) {
    const problem = argumentProblem(name, arg);
    if (problem !== undefined) report(`${shown} ${problem}`, arg);
  }
}

function argumentProblem(name: ComparatorName, arg: ComparatorArg): string | undefined {
  if (RELATIVE_DATE_COMPARATORS.has(name)) {
    return arg.kind === 'duration' ? undefined : 'takes a duration such as 7 days';
  }
  if (arg.kind === 'duration') {
    return 'does not take a duration; only within_last(), before_last(), after_next() and within_next() do';
  }
  if (arg.kind !== 'literal') return undefined;
  if (DATE_COMPARATORS.has(name)) {
    const instant =
      arg.type === 'timestamp' || (arg.type === 'string' && parseIsoTimestamp(arg.value) !== null);
    return instant ? undefined : 'takes an ISO-8601 date or timestamp, e.g. 2023-12-07T18:50:00Z';
  }
  if (arg.type === 'null' && !NULL_ALLOWED.has(name)) {
    return 'does not take null; use .exists() or .absent() to test for a missing value';
  }
  if (arg.type === 'boolean' && !BOOLEAN_ALLOWED.has(name)) return 'does not take a boolean';
  return undefined;
}
