/** A min-heap of (instant, item, key) timers with lazy invalidation: the owner decides whether a popped timer is still current. */

export class TimerHeap<T, K = null> {
  private readonly times: number[] = [];
  private readonly items: T[] = [];
  private readonly keys: K[] = [];
  /** time, item and key of the last `pop()`. */
  poppedTime = Number.NaN;
  poppedItem: T | undefined = undefined;
  poppedKey: K | undefined = undefined;

  get size(): number {
    return this.times.length;
  }

  /** The earliest instant, or Infinity. */
  peekTime(): number {
    return this.times.length === 0 ? Number.POSITIVE_INFINITY : this.times[0]!;
  }

  push(time: number, item: T, key: K): void {
    const { times, items, keys } = this;
    let i = times.length;
    times.push(time);
    items.push(item);
    keys.push(key);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (times[parent]! <= time) break;
      times[i] = times[parent]!;
      items[i] = items[parent]!;
      keys[i] = keys[parent]!;
      i = parent;
    }
    times[i] = time;
    items[i] = item;
    keys[i] = key;
  }

  /** Removes the earliest timer (call only when size > 0); read it from `poppedItem`/`poppedKey`. */
  pop(): void {
    const { times, items, keys } = this;
    this.poppedTime = times[0]!;
    this.poppedItem = items[0]!;
    this.poppedKey = keys[0]!;
    const lastTime = times.pop()!;
    const lastItem = items.pop()!;
    const lastKey = keys.pop()!;
    const n = times.length;
    if (n === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && times[r]! < times[l]! ? r : l;
      if (times[c]! >= lastTime) break;
      times[i] = times[c]!;
      items[i] = items[c]!;
      keys[i] = keys[c]!;
      i = c;
    }
    times[i] = lastTime;
    items[i] = lastItem;
    keys[i] = lastKey;
  }
}
