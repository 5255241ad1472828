/** The chaos harness's checks, pure functions over what the logs hold: losses and doubles, id collisions, a run against an uninterrupted one. */
import type { Change } from '../../engine/runtime/change.ts';

export interface LogCheck {
  /** acknowledged events not in the log. */
  readonly missing: number;
  /** events in the log more than once (counted once per extra copy). */
  readonly doubled: number;
}

/** Acknowledged messageIds against the messageIds in the log, in log order. */
export function checkLog(acked: ReadonlySet<string>, logged: readonly string[]): LogCheck {
  const seen = new Set<string>();
  let doubled = 0;
  for (const id of logged) {
    if (seen.has(id)) doubled++;
    seen.add(id);
  }
  let missing = 0;
  for (const id of acked) if (!seen.has(id)) missing++;
  return { missing, doubled };
}

/** A change's content: everything but its place in the log. */
const content = (c: Change): string => JSON.stringify(c, Object.keys(c).sort());

/** Change ids that name two different changes (a republish of the same change is no collision). */
export function idCollisions(changes: readonly Change[]): { readonly ids: number; readonly examples: string[] } {
  const byId = new Map<string, string>();
  const colliding = new Set<string>();
  for (const c of changes) {
    const before = byId.get(c.id);
    if (before === undefined) byId.set(c.id, content(c));
    else if (before !== content(c)) colliding.add(c.id);
  }
  return { ids: colliding.size, examples: [...colliding].slice(0, 3) };
}

export interface Comparison {
  /** ids of the uninterrupted run the chaotic one lacks … */
  readonly missing: number;
  /** … and ids only the chaotic run has … */
  readonly extra: number;
  /** … and ids both have with other content (values, instant, cause). */
  readonly different: number;
  readonly examples: string[];
}

/** The chaotic run's changes against the uninterrupted run's, by id (each deduplicated as a consumer would). */
export function compareChanges(run: readonly Change[], reference: readonly Change[]): Comparison {
  const index = (cs: readonly Change[]) => {
    const m = new Map<string, string>();
    for (const c of cs) if (!m.has(c.id)) m.set(c.id, content(c));
    return m;
  };
  const a = index(run);
  const b = index(reference);
  let missing = 0;
  let extra = 0;
  let different = 0;
  const examples: string[] = [];
  for (const [id, c] of b) {
    const mine = a.get(id);
    if (mine === undefined) {
      missing++;
      if (examples.length < 3) examples.push(`missing ${c}`);
    } else if (mine !== c) {
      different++;
      if (examples.length < 3) examples.push(`different ${mine} ≠ ${c}`);
    }
  }
  for (const [id, c] of a) {
    if (!b.has(id)) {
      extra++;
      if (examples.length < 6) examples.push(`extra ${c}`);
    }
  }
  return { missing, extra, different, examples };
}

/**
 * What a consumer that deduplicates on change ids ends up with: per (definition, profile) the
 * membership (`true`) or trait value, folding the change log in order.
 */
export function finalState(changes: readonly Change[]): Map<string, string> {
  const seen = new Set<string>();
  const state = new Map<string, string>();
  for (const c of changes) {
    if (seen.has(c.id)) continue;
    seen.add(c.id);
    const key = `${c.space}/${c.definitionId}/${c.profileId}`;
    const value = c.kind === 'trait' ? c.value : c.kind === 'enter' ? true : undefined;
    if (value === undefined || value === null) state.delete(key);
    else state.set(key, JSON.stringify(value));
  }
  return state;
}

/** Keys whose final value differs between two final states (absent on one side counts). */
export function compareFinal(run: ReadonlyMap<string, string>, reference: ReadonlyMap<string, string>): { readonly different: number; readonly examples: string[] } {
  let different = 0;
  const examples: string[] = [];
  for (const key of new Set([...run.keys(), ...reference.keys()])) {
    if (run.get(key) !== reference.get(key)) {
      different++;
      if (examples.length < 3) examples.push(`${key}: ${run.get(key) ?? '(none)'} ≠ ${reference.get(key) ?? '(none)'}`);
    }
  }
  return { different, examples };
}

/** Percentile (0–1) of a list of numbers; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}
