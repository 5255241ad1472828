/**
 * The type of a syntax node under the chain rules of spec §1.2 ("each function has a return type
 * that determines which functions may follow it"). Shared by the rules and the lowering.
 */
import { resolveFunction, type ResolvedFunction } from './functions.ts';
import type { SyntaxNode } from './syntax.ts';

/**
 * - `stream`: `event(…)` / `entity(…)` with filters;
 * - `scalar`: `trait()`, `property()`, `context()`, `literal()` or a bare value;
 * - `aggregate`: a reduced stream (`.count()`, `.sum(…)`, `unique(…).count()` …);
 * - `list`: `unique(…)` without `.count()`;
 * - `boolean`: a comparison or a junction;
 * - `unknown`: something already reported as wrong, so nothing is said about it again.
 */
export type SyntaxType = 'boolean' | 'scalar' | 'aggregate' | 'list' | 'stream' | 'duration' | 'array' | 'object' | 'unknown';

/** The type after calling `fn` on a value of type `before`, or undefined when the chain does not allow it. */
export function step(before: SyntaxType, fn: ResolvedFunction): SyntaxType | undefined {
  switch (before) {
    case 'stream':
      if (fn.role === 'filter') return 'stream';
      if (fn.role === 'reducer') return fn.name === 'unique' ? 'list' : 'aggregate';
      return undefined;
    case 'list':
      return fn.name === 'count' ? 'aggregate' : undefined;
    case 'scalar':
    case 'aggregate':
      return fn.role === 'comparator' ? 'boolean' : undefined;
    case 'unknown':
      return 'unknown';
    default:
      return undefined;
  }
}

/** The type of the function at the head of a chain (`event('A')` → stream), or unknown if it cannot start one. */
export function headType(fn: ResolvedFunction | undefined): SyntaxType {
  if (fn === undefined) return 'unknown';
  if (fn.role === 'stream') return 'stream';
  if (fn.role === 'extractor') return 'scalar';
  return 'unknown';
}

const cache = new WeakMap<SyntaxNode, SyntaxType>();

export function typeOf(node: SyntaxNode): SyntaxType {
  let type = cache.get(node);
  if (type === undefined) {
    type = compute(node);
    cache.set(node, type);
  }
  return type;
}

function compute(node: SyntaxNode): SyntaxType {
  switch (node.kind) {
    case 'junction':
    case 'prefix':
    case 'infix':
      return 'boolean';
    case 'literal':
      return 'scalar';
    case 'duration':
      return 'duration';
    case 'array':
      return 'array';
    case 'object':
      return 'object';
    case 'group':
      return typeOf(node.inner);
    case 'error':
      return 'unknown';
    case 'call':
      return headType(resolveFunction(node.name));
    case 'chain': {
      let type = typeOf(node.head);
      for (const call of node.calls) {
        const fn = resolveFunction(call.name);
        type = fn === undefined ? 'unknown' : (step(type, fn) ?? 'unknown');
      }
      return type;
    }
  }
}

/** How a type reads in a message. */
export function describeType(type: SyntaxType): string {
  switch (type) {
    case 'boolean':
      return 'a boolean (a comparison)';
    case 'scalar':
      return 'a single value';
    case 'aggregate':
      return 'a reduced value';
    case 'list':
      return 'a unique() list';
    case 'stream':
      return 'an event stream';
    case 'duration':
      return 'a duration';
    case 'array':
      return 'an array';
    case 'object':
      return 'an object';
    case 'unknown':
      return 'an invalid expression';
  }
}
