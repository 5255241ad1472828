/**
 * A worker's partition set: which resolved partitions it owns, written `0-7` or `0-3,8,12-15`, and
 * the name it goes by in its lease, its snapshot and its log position (`0-7`, `0-3_8_12-15`: KV keys
 * and subjects take no commas). Two processes given the same set contend for it; sets of different
 * workers must not overlap (each partition's changes would then be computed twice).
 */
export interface PartitionSet {
  readonly partitions: ReadonlySet<number>;
  /** the ranges, ascending, joined by `_`. */
  readonly name: string;
}

export class PartitionSetError extends Error {
  readonly code = 'partition_set_invalid';
}

/** Parses a set of partitions of `count` (`0-7`, `3`, `0-3,8`); throws PartitionSetError on a malformed or out-of-range one. */
export function parsePartitionSet(spec: string, count: number): PartitionSet {
  const partitions = new Set<number>();
  for (const part of spec.split(',')) {
    const m = /^\s*(\d+)(?:\s*-\s*(\d+))?\s*$/.exec(part);
    if (m === null) throw new PartitionSetError(`partition set ${JSON.stringify(spec)}: ${JSON.stringify(part)} is not a partition or a range (e.g. 0-7)`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) throw new PartitionSetError(`partition set ${JSON.stringify(spec)}: range ${from}-${to} is empty`);
    if (to >= count) throw new PartitionSetError(`partition set ${JSON.stringify(spec)}: partition ${to} is beyond the ${count} partitions (0-${count - 1})`);
    for (let p = from; p <= to; p++) partitions.add(p);
  }
  return { partitions, name: nameOf(partitions) };
}

function nameOf(partitions: ReadonlySet<number>): string {
  const sorted = [...partitions].sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    ranges.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return ranges.join('_');
}
