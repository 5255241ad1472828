/** Terse AST builders for tests (spans omitted). */
import type {
  Aggregate,
  ComparatorArg,
  ComparatorName,
  Condition,
  Definition,
  Duration,
  EventStream,
  Filter,
  Literal,
  PropertyRef,
  ContextRef,
  Reducer,
  Scalar,
  TraitRef,
} from '../../engine/lang/ast.ts';
import type { DefinitionInput } from '../../engine/plan/plan.ts';

export const seconds = (n: number): Duration => ({ kind: 'duration', amount: n, unit: 'second', ms: n * 1000 });
export const minutes = (n: number): Duration => ({ kind: 'duration', amount: n, unit: 'minute', ms: n * 60_000 });
export const hours = (n: number): Duration => ({ kind: 'duration', amount: n, unit: 'hour', ms: n * 3_600_000 });
export const days = (n: number): Duration => ({ kind: 'duration', amount: n, unit: 'day', ms: n * 86_400_000 });

export function lit(value: string | number | boolean | null): Literal {
  if (value === null) return { kind: 'literal', type: 'null', value: null };
  if (typeof value === 'string') return { kind: 'literal', type: 'string', value };
  if (typeof value === 'number') return { kind: 'literal', type: 'number', value };
  return { kind: 'literal', type: 'boolean', value };
}
export const instant = (iso: string): Literal => ({ kind: 'literal', type: 'timestamp', value: iso, ms: Date.parse(iso) });
export const trait = (path: string): TraitRef => ({ kind: 'trait', path: path.split('.') });
export const prop = (path: string): PropertyRef => ({ kind: 'property', path: path.split('.'), parent: false });
export const ctx = (path: string): ContextRef => ({ kind: 'context', path: path.split('.'), parent: false });
export const parentProp = (path: string): PropertyRef => ({ kind: 'property', path: path.split('.'), parent: true });
export const withinParent = (d: Duration): Filter => ({ kind: 'within', duration: d, parent: true });

export const event = (name: string, ...filters: Filter[]): EventStream => ({ kind: 'stream', source: 'event', name, filters });
export const where = (condition: Condition): Filter => ({ kind: 'where', condition });
export const within = (d: Duration): Filter => ({ kind: 'within', duration: d, parent: false });
export const between = (from: Duration, to: Duration): Filter => ({ kind: 'between', from, to });
export const expiresAfter = (d: Duration): Filter => ({ kind: 'expires_after', duration: d });

export const agg = (stream: EventStream, reducer: Reducer): Aggregate => ({ kind: 'aggregate', stream, reducer });
export const count = (stream: EventStream): Aggregate => agg(stream, { kind: 'count' });

export function cmp(subject: Scalar, comparator: ComparatorName, ...args: Array<ComparatorArg | string | number | boolean | null>): Condition {
  return {
    kind: 'comparison',
    subject,
    comparator,
    args: args.map((a) => (a !== null && typeof a === 'object' ? a : lit(a))),
  };
}
export const and = (...operands: Condition[]): Condition => ({ kind: 'and', operands });
export const or = (...operands: Condition[]): Condition => ({ kind: 'or', operands });
export const not = (operand: Condition): Condition => ({ kind: 'not', operand });

export function audience(key: string, condition: Condition, version = 1): DefinitionInput {
  const definition: Definition = { kind: 'audience', target: 'USERS', condition };
  return { id: `aud_${key}`, key, kind: 'audience', target: 'USERS', version, definition };
}
export function computedTrait(key: string, value: Aggregate, version = 1): DefinitionInput {
  const definition: Definition = { kind: 'trait', target: 'USERS', value };
  return { id: `tra_${key}`, key, kind: 'trait', target: 'USERS', version, definition };
}
