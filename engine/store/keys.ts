/** LMDB key helpers: the order of keys, sorting writes by key (LMDB appends sorted keys far faster than scattered ones), and merge joins over sorted ranges. */

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
function writeOrderString(key: Key): string {
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

/**
 * Write order for keys that share long prefixes (space, definition, version): items grouped by
 * `group`, the groups in order, each group sorted by `rest` — the sort never compares the shared
 * prefix again (with 100,000s of rows of a few definitions it was most of the sorting time).
 */
export function sortGrouped<T>(items: readonly T[], group: (item: T) => string, rest: (item: T) => string): T[] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const g = group(item);
    const list = groups.get(g);
    if (list === undefined) groups.set(g, [item]);
    else list.push(item);
  }
  const out: T[] = [];
  for (const g of [...groups.keys()].sort()) for (const item of sortForWrite(groups.get(g)!, rest)) out.push(item);
  return out;
}

/** Sorts `items` by their key into write order, in place. */
export function byKey<T extends { key: Key }>(items: T[]): T[] {
  return sortForWrite(items, (item) => writeOrderString(item.key));
}

const HIGH_UNITS = /[\ud800-\uffff]/;

/** LMDB's key order for strings (UTF-8 bytes = code points); JS `<` compares UTF-16 units, which differs past U+D800. */
export function compareKeyStrings(a: string, b: string): number {
  // the orders agree unless both strings hold a unit at or past U+D800 (profile ids are ASCII)
  if (!HIGH_UNITS.test(a) || !HIGH_UNITS.test(b)) return a < b ? -1 : a > b ? 1 : 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      // surrogates (code points above U+FFFF) sort after U+E000–U+FFFF
      x = x < 0xe000 ? x + 0x2000 : x - 0x800;
      y = y < 0xe000 ? y + 0x2000 : y - 0x800;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Looks up ascending keys in a range sorted by the same keys: one cursor pass instead of a point read
 * per key (a merge join) — cheaper when most of the range is asked for.
 */
export function forwardLookup<E, T>(rows: Iterable<E>, keyOf: (entry: E) => string, valueOf: (entry: E) => T): (key: string) => T | undefined {
  const it = rows[Symbol.iterator]();
  let current = it.next();
  return (key) => {
    while (current.done !== true && compareKeyStrings(keyOf(current.value), key) < 0) current = it.next();
    return current.done !== true && keyOf(current.value) === key ? valueOf(current.value) : undefined;
  };
}
