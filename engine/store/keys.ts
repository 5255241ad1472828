/** LMDB key helpers: the order of array keys, and sorting writes by key (LMDB appends sorted keys far faster than scattered ones). */

export type Key = readonly (string | number)[];

/** The order LMDB gives array keys of strings and numbers, element by element. */
export function compareKeys(a: Key, b: Key): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return 0;
}

/** Sorts `items` by their key, in place. */
export function byKey<T extends { key: Key }>(items: T[]): T[] {
  return items.sort((a, b) => compareKeys(a.key, b.key));
}
