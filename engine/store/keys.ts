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

/**
 * The string `sortForWrite` sorts a key by: its elements joined by NUL. It orders keys as LMDB does
 * but for numbers of different lengths (`10` before `9`) — a write order, where near enough is all
 * that counts (every epoch-ms instant has 13 digits).
 */
export function writeOrderString(key: Key): string {
  return key.join('\u0000');
}

/**
 * Sorts `items` into write order by `order(item)` (e.g. `writeOrderString` of its key), in place:
 * one native string sort instead of a comparator called n·log n times from JavaScript (the writer's
 * largest cost with 100,000s of keys per checkpoint).
 */
export function sortForWrite<T>(items: T[], order: (item: T) => string): T[] {
  if (items.length < 2) return items;
  const width = items.length.toString(36).length;
  const tagged = items.map((item, i) => `${order(item)}\u0000${i.toString(36).padStart(width, '0')}`);
  tagged.sort();
  const copy = items.slice();
  for (let i = 0; i < tagged.length; i++) items[i] = copy[parseInt(tagged[i]!.slice(-width), 36)]!;
  return items;
}

/** Sorts `items` by their key into write order, in place. */
export function byKey<T extends { key: Key }>(items: T[]): T[] {
  return sortForWrite(items, (item) => writeOrderString(item.key));
}
