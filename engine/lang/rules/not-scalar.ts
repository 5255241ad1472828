/**
 * `not_scalar`: a computed trait must return a scalar (spec §1.1) — an event aggregate such as
 * `event('E').count()`, `.sum(property('p'))` or `.unique(property('p'))`.
 */
import type { SyntaxRule } from '../rule-context.ts';
import { describeType, typeOf } from '../typing.ts';

export const notScalar: SyntaxRule = (root, context) => {
  if (context.options.kind !== 'trait') return;
  const type = typeOf(root);
  if (type === 'aggregate' || type === 'list' || type === 'unknown') return;
  const hint =
    type === 'stream'
      ? '; add a reducer such as .count()'
      : type === 'boolean'
        ? '; a computed trait is the reduced value itself, without a comparison'
        : '';
  context.report(
    'not_scalar',
    `a computed trait must be an event aggregate such as event('Order Completed').count(), but this is ${describeType(type)}${hint}`,
    root,
  );
};
