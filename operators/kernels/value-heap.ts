/** A binary heap of (value, ts) pairs in a flat array, for sliding-window min/max with lazy expiry. */

/** `[v0, t0, v1, t1, …]`: flat so the state stays plain, serialisable data. */
export type ValueHeap = Array<number | string>;

export type Before = (a: number | string, b: number | string) => boolean;

export const numberAsc: Before = (a, b) => (a as number) < (b as number);
export const numberDesc: Before = (a, b) => (a as number) > (b as number);
export const textAsc: Before = (a, b) => (a as string) < (b as string);
export const textDesc: Before = (a, b) => (a as string) > (b as string);

export function heapPush(heap: ValueHeap, value: number | string, ts: number, before: Before): void {
  let i = heap.length >> 1;
  heap.push(value, ts);
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(heap[2 * i]!, heap[2 * parent]!)) break;
    swap(heap, i, parent);
    i = parent;
  }
}

export function heapPop(heap: ValueHeap, before: Before): void {
  const n = (heap.length >> 1) - 1;
  if (n < 0) return;
  heap[0] = heap[2 * n]!;
  heap[1] = heap[2 * n + 1]!;
  heap.length = 2 * n;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let best = i;
    if (l < n && before(heap[2 * l]!, heap[2 * best]!)) best = l;
    if (r < n && before(heap[2 * r]!, heap[2 * best]!)) best = r;
    if (best === i) return;
    swap(heap, i, best);
    i = best;
  }
}

export function heapSize(heap: ValueHeap): number {
  return heap.length >> 1;
}

function swap(heap: ValueHeap, i: number, j: number): void {
  const v = heap[2 * i]!;
  const t = heap[2 * i + 1]!;
  heap[2 * i] = heap[2 * j]!;
  heap[2 * i + 1] = heap[2 * j + 1]!;
  heap[2 * j] = v;
  heap[2 * j + 1] = t;
}
