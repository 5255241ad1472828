/** Canonical text of AST fragments: equal meaning → equal text, the key that hash-conses plan nodes. */
import { createHash } from 'node:crypto';
import type { Condition, Filter } from '../lang/ast.ts';

/** JSON with sorted keys and without source spans. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(strip(value));
}

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(strip);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    if (key === 'span') continue;
    out[key] = strip((value as Record<string, unknown>)[key]);
  }
  return out;
}

/**
 * A condition with nested AND/OR flattened and their operands sorted, so `a AND b` and `b AND a`
 * (and `(a AND b) AND c` and `a AND (b AND c)`) share one node.
 */
export function canonicalCondition(c: Condition): string {
  switch (c.kind) {
    case 'and':
    case 'or': {
      const parts: string[] = [];
      const collect = (x: Condition) => {
        if (x.kind === c.kind) for (const o of x.operands) collect(o);
        else parts.push(canonicalCondition(x));
      };
      collect(c);
      parts.sort();
      return `${c.kind}(${parts.join(',')})`;
    }
    case 'not':
      return `not(${canonicalCondition(c.operand)})`;
    case 'quantified':
      return `${c.quantifier}(${canonicalCondition(c.operand)})`;
    case 'comparison':
      return canonicalJson(c);
  }
}

/** The filters of a stream in canonical order: all `where`s as one AND, then sources, then the window. */
export function canonicalFilters(filters: readonly Filter[]): string {
  const wheres = filters.filter((f) => f.kind === 'where').map((f) => (f as { condition: Condition }).condition);
  const where = wheres.length === 0 ? '' : canonicalCondition(wheres.length === 1 ? wheres[0]! : { kind: 'and', operands: wheres });
  const sources = filters
    .filter((f) => f.kind === 'sources')
    .flatMap((f) => (f as { exclude: readonly string[] }).exclude)
    .sort();
  const windows = filters.filter((f) => f.kind === 'within' || f.kind === 'between' || f.kind === 'expires_after');
  return `where(${where})|sources(${sources.join(',')})|${windows.map(canonicalJson).join('|')}`;
}

/** A short, stable fingerprint of a canonical text (state keys and change ids carry it). */
export function fingerprint(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 12);
}
