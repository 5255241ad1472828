/**
 * Which worker holds which partition set when workers come and go (`--worker-partitions auto`): the
 * resolved partitions are cut into fixed sets of consecutive partitions (`0-3`, `4-7`, …) — a set is
 * the unit of a lease, a snapshot and a store, so its state moves whole — and each set goes to the
 * live worker with the highest rendezvous weight hash(worker, set). Every worker computes the same
 * answer from the same list of live workers, with no coordinator; a worker that joins takes only the
 * sets it now weighs highest on (about 1/n of them), a worker that leaves gives only its own away.
 * The worker with the second highest weight for a set is next in line for it (`nextInLine`): the one
 * the set goes to when its worker leaves — so that one keeps the set warm (warm-standby.ts).
 */
import { createHash } from 'node:crypto';
import { parsePartitionSet, type PartitionSet } from './partition-set.ts';

/** The sets of `count` partitions, `size` consecutive partitions each (the last may be smaller). */
export function partitionSets(count: number, size: number): PartitionSet[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`partition count ${count} must be an integer ≥ 1`);
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`partition set size ${size} must be an integer ≥ 1`);
  const sets: PartitionSet[] = [];
  for (let from = 0; from < count; from += size) {
    const to = Math.min(count, from + size) - 1;
    sets.push(parsePartitionSet(from === to ? `${from}` : `${from}-${to}`, count));
  }
  return sets;
}

/** A worker's rendezvous weight for a set (the first 6 bytes of SHA-256: stable across processes and versions). */
function weight(worker: string, set: string): number {
  return createHash('sha256').update(`${worker}\u0000${set}`).digest().readUIntBE(0, 6);
}

/** The live workers ranked for one set, highest weight first (ties, never in practice, to the smaller name). */
function ranked(live: readonly string[], set: string): string[] {
  return live
    .map((worker) => ({ worker, w: weight(worker, set) }))
    .sort((a, b) => b.w - a.w || (a.worker < b.worker ? -1 : a.worker > b.worker ? 1 : 0))
    .map((x) => x.worker);
}

/** The live worker each set goes to (set name → worker); none live: empty. */
export function assignSets(sets: readonly PartitionSet[], workers: Iterable<string>): Map<string, string> {
  const live = [...new Set(workers)];
  const out = new Map<string, string>();
  if (live.length === 0) return out;
  for (const set of sets) out.set(set.name, ranked(live, set.name)[0]!);
  return out;
}

/** The live worker next in line for each set (the set's worker if that one left); fewer than two live: empty. */
export function nextInLine(sets: readonly PartitionSet[], workers: Iterable<string>): Map<string, string> {
  const live = [...new Set(workers)];
  const out = new Map<string, string>();
  if (live.length < 2) return out;
  for (const set of sets) out.set(set.name, ranked(live, set.name)[1]!);
  return out;
}
